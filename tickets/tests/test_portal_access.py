"""Who gets into the portal, and what a portal session can reach: refusals leave no session,
rate limits hold, and a session sees only the orders it proved, of the merchant in the URL."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from aftersales.exceptions import InvalidInput, RateLimited
from aftersales.models import Notification, PortalChallenge
from aftersales.portal import PENDING_CHALLENGE_KEY, PORTAL_SESSION_KEY
from aftersales.services import portal as portal_service
from aftersales.services.portal import portal_challenge_start, portal_challenge_verify
from aftersales.tests.builders import code_from_outbox, request_code, sign_in
from aftersales.tests.factories import CustomerFactory, MerchantFactory, OrderFactory, OrderLineFactory
from tickets.models import TicketChannel, TicketKind
from tickets.services import ticket_create

# Uploaded files go to a folder of each test's own.
pytestmark = pytest.mark.usefixtures("private_storage")


@pytest.fixture
def shop(db):
    return MerchantFactory(name="Trail Gear", slug="trail-gear", default_language="en")


@pytest.fixture
def one_client_window():
    """The clock stands still inside one window of the per-address limit (windows are buckets of the
    clock), so a test's requests are never split across two windows."""
    with time_machine.travel(timezone.now().replace(minute=1, second=0, microsecond=0), tick=False):
        yield


@pytest.fixture
def lin_order(shop):
    order = OrderFactory(
        merchant=shop, external_number="TG-1001", customer__email="lin@example.com", customer__phone="+8613800138000"
    )
    OrderLineFactory(order=order, name="Alpine Tent 2P")
    return order


@pytest.fixture
def other_order(shop):
    """Another customer's order at the same shop."""
    order = OrderFactory(merchant=shop, external_number="TG-2002", customer__email="zhao@example.com")
    OrderLineFactory(order=order, name="Down Sleeping Bag")
    return order


def open_ticket(order, files=(), subject="Zip is broken"):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.SUPPORT,
        subject=subject,
        body="The zip came off.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
        files=files,
    )


def verify_url(merchant):
    return reverse("portal:verify", args=[merchant.slug])


def has_grant(client) -> bool:
    return bool(client.session.get(PORTAL_SESSION_KEY))


# --- refusals leave no portal session ------------------------------------------------------------


def test_a_wrong_contact_is_refused_and_leaves_no_session(client, lin_order, django_capture_on_commit_callbacks):
    response = request_code(
        client, django_capture_on_commit_callbacks, lin_order.merchant, "TG-1001", "zhao@example.com"
    )

    assert response.status_code == 200
    assert "We could not find an order with that number and contact." in response.content.decode()
    assert PortalChallenge.objects.count() == 0
    assert Notification.objects.count() == 0
    assert mail.outbox == []
    assert not has_grant(client)
    assert PENDING_CHALLENGE_KEY not in client.session
    assert client.get(reverse("portal:order", args=[lin_order.merchant.slug, lin_order.pk])).status_code == 302


def test_an_expired_code_is_refused_and_leaves_no_session(client, lin_order, django_capture_on_commit_callbacks):
    request_code(client, django_capture_on_commit_callbacks, lin_order.merchant, "TG-1001", "lin@example.com")
    code = code_from_outbox()
    challenge = PortalChallenge.objects.get()

    with time_machine.travel(challenge.expires_at + timedelta(seconds=1), tick=False):
        response = client.post(verify_url(lin_order.merchant), {"code": code})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This code has expired. Request a new one." in page
    assert "Send me a new code" in page
    assert not has_grant(client)
    assert PENDING_CHALLENGE_KEY not in client.session
    challenge.refresh_from_db()
    assert challenge.verified_at is None
    assert challenge.attempts == 0


def test_the_last_second_of_a_code_still_works(client, lin_order, django_capture_on_commit_callbacks):
    request_code(client, django_capture_on_commit_callbacks, lin_order.merchant, "TG-1001", "lin@example.com")
    challenge = PortalChallenge.objects.get()

    with time_machine.travel(challenge.expires_at - timedelta(seconds=1), tick=False):
        response = client.post(verify_url(lin_order.merchant), {"code": code_from_outbox()})

    assert response.status_code == 302
    assert has_grant(client)


def test_a_reused_code_is_refused_and_leaves_no_session(client_factory, lin_order, django_capture_on_commit_callbacks):
    owner, stranger = client_factory(), client_factory()
    sign_in(owner, django_capture_on_commit_callbacks, lin_order)
    challenge = PortalChallenge.objects.get()
    # The stranger has the code (a shared screen, a forwarded e-mail) and the challenge id.
    session = stranger.session
    session[PENDING_CHALLENGE_KEY] = challenge.pk
    session.save()

    response = stranger.post(verify_url(lin_order.merchant), {"code": code_from_outbox()})

    assert response.status_code == 200
    assert "This code has already been used. Request a new one." in response.content.decode()
    assert not has_grant(stranger)
    assert stranger.get(reverse("portal:order", args=[lin_order.merchant.slug, lin_order.pk])).status_code == 302


def test_too_many_wrong_codes_are_refused_and_even_the_right_code_then_fails(
    client, lin_order, django_capture_on_commit_callbacks
):
    request_code(client, django_capture_on_commit_callbacks, lin_order.merchant, "TG-1001", "lin@example.com")
    code = code_from_outbox()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    attempts = django_settings.PORTAL_CODE_MAX_ATTEMPTS

    pages = [client.post(verify_url(lin_order.merchant), {"code": wrong}).content.decode() for _n in range(attempts)]

    assert "That code is not right. 4 attempts left." in pages[0]
    assert "That code is not right. 1 attempt left." in pages[attempts - 2]
    assert "Too many wrong codes. Request a new one." in pages[-1]
    assert PENDING_CHALLENGE_KEY not in client.session
    # Even with the pending id put back, the right code no longer opens anything.
    session = client.session
    session[PENDING_CHALLENGE_KEY] = PortalChallenge.objects.get().pk
    session.save()
    response = client.post(verify_url(lin_order.merchant), {"code": code})
    assert "Too many wrong codes. Request a new one." in response.content.decode()
    assert not has_grant(client)
    challenge = PortalChallenge.objects.get()
    assert challenge.attempts == attempts
    assert challenge.verified_at is None


# --- rate limits ---------------------------------------------------------------------------------


def test_codes_per_order_are_limited_with_a_clear_message(
    client, lin_order, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_CODES_PER_ORDER_PER_HOUR = 2
    capture = django_capture_on_commit_callbacks
    shop = lin_order.merchant

    first = request_code(client, capture, shop, "TG-1001", "lin@example.com", ip="10.0.0.1")
    second = request_code(client, capture, shop, "TG-1001", "lin@example.com", ip="10.0.0.2")
    third = request_code(client, capture, shop, "TG-1001", "lin@example.com", ip="10.0.0.3")

    assert [first.status_code, second.status_code, third.status_code] == [302, 302, 429]
    assert "Too many codes were requested for this order. Please try again in an hour." in third.content.decode()
    assert PortalChallenge.objects.count() == 2
    assert len(mail.outbox) == 2
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        later = request_code(client, capture, shop, "TG-1001", "lin@example.com", ip="10.0.0.4")
    assert later.status_code == 302
    assert PortalChallenge.objects.count() == 3


def test_lookups_per_client_are_limited_found_or_not(
    client, lin_order, other_order, settings, django_capture_on_commit_callbacks, one_client_window
):
    settings.PORTAL_CODES_PER_CLIENT = 3
    capture = django_capture_on_commit_callbacks
    shop = lin_order.merchant

    responses = [
        request_code(client, capture, shop, "TG-9999", "lin@example.com", ip="10.9.9.9"),
        request_code(client, capture, shop, "TG-1001", "lin@example.com", ip="10.9.9.9"),
        request_code(client, capture, shop, "TG-2002", "zhao@example.com", ip="10.9.9.9"),
        request_code(client, capture, shop, "TG-2002", "zhao@example.com", ip="10.9.9.9"),
        request_code(client, capture, shop, "TG-2002", "zhao@example.com", ip="10.1.1.1"),
    ]

    assert [response.status_code for response in responses] == [200, 302, 302, 429, 302]
    assert "Too many attempts. Please wait a while and try again." in responses[3].content.decode()
    assert PortalChallenge.objects.filter(client_ip="10.9.9.9").count() == 2
    assert PortalChallenge.objects.count() == 3


def test_many_customers_behind_one_address_get_their_codes_in_a_burst(shop, one_client_window):
    # An office or a campus NAT: thirty customers' requests from one address in a few minutes.
    orders = [
        OrderFactory(merchant=shop, external_number=f"TG-5{n:03d}", customer__email=f"c{n}@example.com")
        for n in range(30)
    ]
    for order in orders:
        portal_challenge_start(
            merchant=shop, order_number=order.external_number, contact=order.customer.email, client_ip="10.7.7.7"
        )

    with pytest.raises(RateLimited):
        portal_challenge_start(merchant=shop, order_number="TG-5000", contact="c0@example.com", client_ip="10.7.7.7")

    assert django_settings.PORTAL_CODES_PER_CLIENT == 30
    assert django_settings.PORTAL_CODES_CLIENT_WINDOW_SECONDS == 600
    assert PortalChallenge.objects.filter(client_ip="10.7.7.7").count() == 30
    assert Notification.objects.count() == 30


def test_a_refused_address_may_try_again_when_the_short_window_ends(lin_order, settings):
    settings.PORTAL_CODES_PER_CLIENT = 2
    settings.PORTAL_CODES_CLIENT_WINDOW_SECONDS = 600
    shop = lin_order.merchant
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    def lookup():
        portal_challenge_start(merchant=shop, order_number="TG-9999", contact="lin@example.com", client_ip="10.3.3.3")

    with time_machine.travel(start, tick=False):
        for _attempt in range(2):
            with pytest.raises(InvalidInput):
                lookup()
        with pytest.raises(RateLimited):
            lookup()
    with time_machine.travel(start + timedelta(minutes=9, seconds=59), tick=False), pytest.raises(RateLimited):
        lookup()
    assert PortalChallenge.objects.count() == 0
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        portal_challenge_start(merchant=shop, order_number="TG-1001", contact="lin@example.com", client_ip="10.3.3.3")
    assert list(PortalChallenge.objects.values_list("order_id", "client_ip")) == [(lin_order.pk, "10.3.3.3")]


# --- a session sees only what it proved ----------------------------------------------------------


def test_another_customers_order_ticket_and_attachment_are_not_found(
    client, lin_order, other_order, django_capture_on_commit_callbacks, png_upload
):
    their_ticket = open_ticket(other_order, files=[png_upload("their.png")])
    their_attachment = their_ticket.attachments.get()
    sign_in(client, django_capture_on_commit_callbacks, lin_order)
    slug = lin_order.merchant.slug

    responses = [
        client.get(reverse("portal:order", args=[slug, other_order.pk])),
        client.get(reverse("portal:ticket_new", args=[slug, other_order.pk])),
        client.post(
            reverse("portal:ticket_new", args=[slug, other_order.pk]),
            {"kind": TicketKind.SUPPORT, "subject": "Mine now", "description": "Hello."},
        ),
        client.get(reverse("portal:ticket", args=[slug, their_ticket.number])),
        client.post(reverse("portal:ticket", args=[slug, their_ticket.number]), {"body": "Hi"}),
        client.get(reverse("portal:attachment", args=[slug, their_attachment.pk])),
    ]
    home = client.get(reverse("portal:home", args=[slug])).content.decode()

    assert [response.status_code for response in responses] == [404] * 6
    assert other_order.tickets.count() == 1
    assert their_ticket.messages.count() == 1
    assert "TG-2002" not in home
    assert "Down Sleeping Bag" not in home
    assert their_ticket.number not in home


def test_without_a_verified_order_every_page_sends_to_the_lookup(client, lin_order, png_upload):
    ticket = open_ticket(lin_order, files=[png_upload()])
    slug = lin_order.merchant.slug
    urls = [
        reverse("portal:order", args=[slug, lin_order.pk]),
        reverse("portal:ticket_new", args=[slug, lin_order.pk]),
        reverse("portal:ticket", args=[slug, ticket.number]),
        reverse("portal:attachment", args=[slug, ticket.attachments.get().pk]),
    ]

    responses = [client.get(url) for url in urls]

    assert [response.status_code for response in responses] == [302] * 4
    assert {response["Location"] for response in responses} == {reverse("portal:home", args=[slug])}


def test_a_second_merchant_with_the_same_order_number_cannot_see_the_first_merchants_order(
    client, lin_order, django_capture_on_commit_callbacks, png_upload
):
    first_ticket = open_ticket(lin_order, files=[png_upload()])
    second = MerchantFactory(name="River Kayaks", slug="river-kayaks", default_language="en")
    # The same order number and the same buyer's e-mail, at another merchant.
    second_order = OrderFactory(
        merchant=second,
        external_number="TG-1001",
        customer=CustomerFactory(merchant=second, email="lin@example.com", phone="+8613900139000"),
    )
    OrderLineFactory(order=second_order, name="Sea Kayak Paddle")
    capture = django_capture_on_commit_callbacks

    # Proving the second merchant's order opens that order only.
    request_code(client, capture, second, "TG-1001", "lin@example.com")
    assert PortalChallenge.objects.get().order == second_order
    client.post(verify_url(second), {"code": code_from_outbox()})
    home = client.get(reverse("portal:home", args=[second.slug])).content.decode()
    responses = [
        client.get(reverse("portal:order", args=[second.slug, lin_order.pk])),
        client.get(reverse("portal:ticket_new", args=[second.slug, lin_order.pk])),
        client.get(reverse("portal:ticket", args=[second.slug, first_ticket.number])),
        client.get(reverse("portal:attachment", args=[second.slug, first_ticket.attachments.get().pk])),
    ]
    first_shop_order = client.get(reverse("portal:order", args=[lin_order.merchant.slug, lin_order.pk]))

    assert "Sea Kayak Paddle" in home
    assert "Alpine Tent 2P" not in home
    assert first_ticket.number not in home
    assert [response.status_code for response in responses] == [404] * 4
    assert first_shop_order.status_code == 302  # the first shop still asks for its own proof
    assert list(client.session[PORTAL_SESSION_KEY]) == [str(second.pk)]


def test_a_challenge_of_one_merchant_does_not_open_another_merchant(
    client, lin_order, django_capture_on_commit_callbacks
):
    second = MerchantFactory(slug="river-kayaks")
    request_code(client, django_capture_on_commit_callbacks, lin_order.merchant, "TG-1001", "lin@example.com")

    response = client.post(verify_url(second), {"code": code_from_outbox()})

    assert response.status_code == 200
    assert not has_grant(client)
    challenge = PortalChallenge.objects.get()
    assert (challenge.attempts, challenge.verified_at) == (0, None)


def test_a_planted_session_key_gains_nothing(client_factory, lin_order, django_capture_on_commit_callbacks):
    victim, attacker = client_factory(), client_factory()
    # The attacker fixes a session id on the victim's browser before the victim signs in.
    session = attacker.session
    session["planted"] = True
    session.save()
    victim.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key

    sign_in(victim, django_capture_on_commit_callbacks, lin_order)

    assert victim.session.session_key != session.session_key
    assert not has_grant(attacker)
    assert attacker.get(reverse("portal:order", args=[lin_order.merchant.slug, lin_order.pk])).status_code == 302


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


# --- the service underneath ----------------------------------------------------------------------


def test_a_code_is_stored_as_a_salted_hash_never_as_itself(lin_order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        challenge, masked = portal_challenge_start(
            merchant=lin_order.merchant, order_number="TG-1001", contact="lin@example.com", client_ip="10.0.0.1"
        )
    code = code_from_outbox()

    salt, separator, digest = challenge.code_hash.partition("$")
    assert masked == "l***@example.com"
    assert separator == "$"
    assert len(salt) == 16
    assert len(digest) == 64
    assert code not in challenge.code_hash
    assert portal_service._code_matches(code, challenge.code_hash)
    assert not portal_service._code_matches(f"{(int(code) + 1) % 10**6:06d}", challenge.code_hash)


def test_the_code_hash_depends_on_the_salt_and_the_code():
    first = portal_service._code_hash("123456", "aaaa")

    assert first == portal_service._code_hash("123456", "aaaa")
    assert first != portal_service._code_hash("123456", "bbbb")
    assert first != portal_service._code_hash("123457", "aaaa")
    assert first.startswith("aaaa$")
    # A stored hash with a swapped salt does not match: the salt is part of what is signed.
    assert not portal_service._code_matches("123456", "bbbb$" + first.partition("$")[2])
    assert not portal_service._code_matches("123456", "garbage")


@pytest.mark.django_db(transaction=True)
def test_a_wrong_code_uses_an_attempt_that_stays_committed_after_the_refusal():
    order = OrderFactory(external_number="TG-3003", customer__email="wu@example.com")
    challenge, _masked = portal_challenge_start(
        merchant=order.merchant, order_number="TG-3003", contact="wu@example.com", client_ip=None
    )

    with pytest.raises(InvalidInput) as refusal:
        portal_challenge_verify(merchant=order.merchant, challenge_id=challenge.pk, code="not-it")

    assert refusal.value.code == "code_wrong"
    assert PortalChallenge.objects.get(pk=challenge.pk).attempts == 1
    assert PortalChallenge.objects.get(pk=challenge.pk).verified_at is None


def test_contacts_match_whatever_their_spelling(lin_order):
    shop = lin_order.merchant

    by_email = portal_service.portal_find_order(merchant=shop, order_number=" TG-1001 ", contact=" LIN@example.COM ")
    by_local_phone = portal_service.portal_find_order(merchant=shop, order_number="TG-1001", contact="138-0013-8000")
    by_e164 = portal_service.portal_find_order(merchant=shop, order_number="TG-1001", contact="+86 138 0013 8000")
    nothing = [
        portal_service.portal_find_order(merchant=shop, order_number="TG-1001", contact=""),
        portal_service.portal_find_order(merchant=shop, order_number="", contact="lin@example.com"),
        portal_service.portal_find_order(merchant=shop, order_number="TG-1001", contact="not a phone"),
        portal_service.portal_find_order(merchant=shop, order_number="tg-1001x", contact="lin@example.com"),
    ]

    assert by_email == (lin_order, PortalChallenge.Channel.EMAIL, "lin@example.com")
    assert by_local_phone == (lin_order, PortalChallenge.Channel.SMS, "+8613800138000")
    assert by_e164 == (lin_order, PortalChallenge.Channel.SMS, "+8613800138000")
    assert nothing == [None, None, None, None]


def test_the_client_limit_counts_in_the_cache_and_refuses_before_looking(lin_order, settings, one_client_window):
    settings.PORTAL_CODES_PER_CLIENT = 1
    shop = lin_order.merchant
    portal_challenge_start(merchant=shop, order_number="TG-1001", contact="lin@example.com", client_ip="10.2.2.2")

    with pytest.raises(RateLimited):
        portal_challenge_start(merchant=shop, order_number="TG-1001", contact="lin@example.com", client_ip="10.2.2.2")

    assert PortalChallenge.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_verified_challenge_gives_the_order_once(lin_order):
    challenge, _masked = portal_challenge_start(
        merchant=lin_order.merchant, order_number="TG-1001", contact="lin@example.com", client_ip=None
    )
    # The code itself only went out by e-mail; put a known one in its place for this unit.
    challenge.code_hash = portal_service._code_hash("246810", "cafe")
    challenge.save(update_fields=["code_hash"])

    order = portal_challenge_verify(merchant=lin_order.merchant, challenge_id=challenge.pk, code=" 246810 ")
    with pytest.raises(InvalidInput) as again:
        portal_challenge_verify(merchant=lin_order.merchant, challenge_id=challenge.pk, code="246810")

    assert order == lin_order
    assert again.value.code == "code_used"
    challenge.refresh_from_db()
    assert challenge.verified_at is not None
    assert challenge.attempts == 0
