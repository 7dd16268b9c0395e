"""The staff dashboard's returns: the queue, one return, and its decisions, as the merchant's staff
use them. Every return is opened through ``return_request_create``, as the portal opens it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from aftersales.models import Membership, OrderLine
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from returns.models import ReturnPolicy, ReturnReason, ReturnRequest, ReturnStatus
from returns.selectors import ReturnFilters, ReturnKey, return_queue_page
from returns.services import return_request_approve, return_request_cancel, return_request_create, return_request_reject
from returns.views.dashboard import decode_return_key, encode_return_key
from tickets.models import Attachment, Ticket, TicketChannel, TicketEvent, TicketKind, TicketStatus
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

# Delivered 2026-11-10 at 23:30 in Shanghai: the legal floor's 7 days run to midnight after the 17th.
DELIVERED = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)
# 16:30 UTC on the 12th is half past midnight on the 13th in Shanghai.
FIRST_SUBMISSION = datetime(2026, 11, 12, 16, 30, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return FIRST_SUBMISSION + timedelta(minutes=minutes)


# --- the shop: a merchant with a policy, reasons, staff and delivered orders ----------------------


@pytest.fixture
def merchant(db):
    return MerchantFactory(timezone="Asia/Shanghai", name="Alpha Outdoor")


@pytest.fixture
def policy(merchant):
    policy = ReturnPolicy.objects.create(merchant=merchant)
    policy.rules.create(
        position=1,
        name="Boots: 30 days",
        match_categories=["boots"],
        window_days=30,
        allowed_resolutions=["refund", "exchange"],
        restocking_fee_percent=Decimal("10"),
    )
    return policy


@pytest.fixture
def changed_mind(merchant):
    return ReturnReason.objects.create(
        merchant=merchant, code="changed_mind", name="Changed my mind", responsibility="customer"
    )


@pytest.fixture
def defect(merchant):
    return ReturnReason.objects.create(
        merchant=merchant, code="defect", name="Arrived broken", responsibility="merchant"
    )


def _membership(merchant, role):
    return MembershipFactory(merchant=merchant, role=role).user


@pytest.fixture
def agent(merchant):
    return _membership(merchant, Membership.Role.AGENT)


@pytest.fixture
def warehouse(merchant):
    return _membership(merchant, Membership.Role.WAREHOUSE)


@pytest.fixture
def technician(merchant):
    return _membership(merchant, Membership.Role.TECHNICIAN)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def make_order(merchant, *, customer=None, delivered_at=DELIVERED, lines=1, category="apparel"):
    extra = {"customer": customer} if customer is not None else {}
    order = OrderFactory(
        merchant=merchant,
        placed_at=DELIVERED - timedelta(days=3),
        shipped_at=DELIVERED - timedelta(days=2),
        delivered_at=delivered_at,
        **extra,
    )
    for i in range(lines):
        OrderLineFactory(
            order=order,
            line_number=str(i + 1),
            product=ProductFactory(merchant=merchant, category=category),
            quantity=2,
            unit_price=Decimal("300.00"),
            discount_amount=Decimal("20.00"),
        )
    return order


def make_return(order, reason, *, when=FIRST_SUBMISSION, quantity=1, resolution="refund", files=(), note=""):
    """Open a return for ``quantity`` units of every line of ``order``, at ``when``."""
    lines = [(line, quantity) for line in order.lines.order_by("pk")]
    with time_machine.travel(when, tick=False):
        return return_request_create(
            order=order,
            customer=order.customer,
            lines=lines,
            reason=reason,
            resolution=resolution,
            files=files,
            note=note,
        )


def _snapshot(return_request: ReturnRequest) -> dict:
    return_request.refresh_from_db()
    ticket = Ticket.objects.get(pk=return_request.ticket_id)
    return {
        "status": return_request.status,
        "decided_at": return_request.decided_at,
        "rejection_reason": return_request.rejection_reason,
        "ticket_status": ticket.status,
        "events": list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("verb", flat=True)),
        "requested": sorted(
            OrderLine.objects.filter(order_id=return_request.order_id).values_list("pk", "quantity_requested")
        ),
    }


def _numbers(response) -> list[str]:
    return [return_request.ticket.number for return_request in response.context["returns"]]


def _url(name: str, return_request: ReturnRequest) -> str:
    return reverse(name, kwargs={"number": return_request.ticket.number})


ACTIONS = ("dashboard:return_approve", "dashboard:return_reject", "dashboard:return_cancel")
ACTION_PAYLOAD = {"note": "Fine by us", "reason": "Worn outside"}


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_lists_this_merchants_returns_waiting_on_staff_newest_first(
    agent_client, agent, merchant, policy, changed_mind
):
    oldest = make_return(make_order(merchant), changed_mind, when=at(0))
    approved = make_return(make_order(merchant), changed_mind, when=at(1))
    return_request_approve(return_request=approved, actor=agent)
    rejected = make_return(make_order(merchant), changed_mind, when=at(2))
    return_request_reject(return_request=rejected, actor=agent, reason="Worn")
    cancelled = make_return(make_order(merchant), changed_mind, when=at(3))
    return_request_cancel(return_request=cancelled, actor=agent)
    newest = make_return(make_order(merchant), changed_mind, when=at(4))
    # Two submitted in the same instant: the higher id is the newer.
    same_instant = [make_return(make_order(merchant), changed_mind, when=at(5)) for _ in range(2)]
    other_merchant = MerchantFactory()
    other_reason = ReturnReason.objects.create(
        merchant=other_merchant, code="changed_mind", name="Changed", responsibility="customer"
    )
    make_return(make_order(other_merchant), other_reason, when=at(6))

    response = agent_client.get(reverse("dashboard:returns"))

    assert response.status_code == 200
    assert _numbers(response) == [
        same_instant[1].ticket.number,
        same_instant[0].ticket.number,
        newest.ticket.number,
        oldest.ticket.number,
    ]
    assert ReturnRequest.objects.count() == 8


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "approved"}, ["approved"]),
        ({"status": "rejected"}, ["rejected"]),
        ({"status": "cancelled"}, ["cancelled"]),
        ({"status": "needs_review"}, []),
        ({"status": "all"}, ["exchange", "cancelled", "rejected", "approved", "refund"]),
        ({"status": "all", "resolution": "exchange"}, ["exchange"]),
        ({"resolution": "exchange"}, ["exchange"]),
        ({"resolution": "refund"}, ["refund"]),
        ({"status": "nonsense"}, ["exchange", "refund"]),
    ],
)
def test_the_queue_filters_by_status_and_resolution_exactly(
    agent_client, agent, merchant, policy, changed_mind, params, expected
):
    made = {
        "refund": make_return(make_order(merchant), changed_mind, when=at(0)),
        "approved": make_return(make_order(merchant), changed_mind, when=at(1)),
        "rejected": make_return(make_order(merchant), changed_mind, when=at(2)),
        "cancelled": make_return(make_order(merchant), changed_mind, when=at(3)),
        "exchange": make_return(
            make_order(merchant, category="boots"), changed_mind, when=at(4), resolution="exchange"
        ),
    }
    return_request_approve(return_request=made["approved"], actor=agent)
    return_request_reject(return_request=made["rejected"], actor=agent, reason="Worn")
    return_request_cancel(return_request=made["cancelled"], actor=agent)

    response = agent_client.get(reverse("dashboard:returns"), params)

    assert response.status_code == 200
    assert _numbers(response) == [made[name].ticket.number for name in expected]


def test_the_queue_finds_a_return_by_ticket_number_order_number_email_or_phone(
    agent_client, merchant, policy, changed_mind
):
    customer = CustomerFactory(merchant=merchant, email="li.wei@example.com", phone="+8613912345678")
    wanted = make_return(make_order(merchant, customer=customer), changed_mind, when=at(0))
    make_return(make_order(merchant), changed_mind, when=at(1))
    searches = [
        wanted.ticket.number.lower(),
        wanted.order.external_number,
        "LI.WEI@example.com",
        "+8613912345678",
        "13912345678",
    ]

    for q in searches:
        response = agent_client.get(reverse("dashboard:returns"), {"q": q})
        assert _numbers(response) == [wanted.ticket.number], q

    assert _numbers(agent_client.get(reverse("dashboard:returns"), {"q": "nobody@example.com"})) == []


def test_a_queue_row_shows_the_customer_order_items_resolution_status_submitted_time_and_estimate(
    agent_client, merchant, policy, changed_mind
):
    order = make_order(merchant, lines=2)
    return_request = make_return(order, changed_mind, when=FIRST_SUBMISSION, quantity=2)

    response = agent_client.get(reverse("dashboard:returns"))

    [row] = response.context["returns"]
    # Two lines of 2 units, each paid 580.00: 290.00 a unit, no fee under the legal floor.
    assert (row.item_count, row.estimated_refund) == (4, Decimal("1160.00"))
    html = response.content.decode()
    assert f'href="{_url("dashboard:return", return_request)}"' in html
    assert str(order.customer) in html
    assert order.external_number in html
    assert "Refund to the original payment" in html
    assert '<span class="badge badge--return-submitted">Submitted</span>' in html
    # Shown in the merchant's time zone: half past midnight on the 13th in Shanghai.
    assert 'datetime="2026-11-13T00:30:00+08:00"' in html
    assert "1160.00 CNY" in html


def test_the_queue_pages_by_keyset_without_gaps_or_repeats(agent, merchant, policy, changed_mind):
    made = [make_return(make_order(merchant), changed_mind, when=at(i // 2)) for i in range(5)]
    newest_first = [r.pk for r in sorted(made, key=lambda r: (r.submitted_at, r.pk), reverse=True)]
    membership = Membership.objects.get(user=agent)

    first = return_queue_page(membership=membership, filters=ReturnFilters(), size=2)
    second = return_queue_page(membership=membership, filters=ReturnFilters(), after=first.next_key, size=2)
    third = return_queue_page(membership=membership, filters=ReturnFilters(), after=second.next_key, size=2)
    back = return_queue_page(membership=membership, filters=ReturnFilters(), before=second.previous_key, size=2)

    assert [r.pk for r in first.returns + second.returns + third.returns] == newest_first
    assert (first.previous_key, third.next_key) == (None, None)
    assert [r.pk for r in back.returns] == newest_first[:2]
    assert back.previous_key is None
    key = ReturnKey.of(made[0])
    assert decode_return_key(encode_return_key(key)) == key


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJyZXR1cm5zIiwiMjAyNi0xMS0xMlQxNjozMDowMCIsMV0"])
def test_a_cursor_that_is_not_one_shows_the_first_page(agent_client, merchant, policy, changed_mind, cursor):
    return_request = make_return(make_order(merchant), changed_mind)

    response = agent_client.get(reverse("dashboard:returns"), {"after": cursor})

    assert decode_return_key(cursor) is None
    assert response.status_code == 200
    assert _numbers(response) == [return_request.ticket.number]


# session, user, the memberships (with the switcher's), one page (lines summed in the same query)
RETURNS_QUEUE_QUERIES = 4


@pytest.mark.parametrize("count", [10, 100])
def test_the_queue_costs_the_same_queries_at_10_and_at_100_returns(
    agent_client, merchant, policy, changed_mind, count, django_assert_num_queries
):
    for i in range(count):
        make_return(make_order(merchant, lines=1 + i % 3), changed_mind, when=at(i % 7))

    with django_assert_num_queries(RETURNS_QUEUE_QUERIES):
        response = agent_client.get(reverse("dashboard:returns"), {"status": "all", "q": ""})

    assert response.status_code == 200
    assert len(response.context["returns"]) == min(count, 50)
    if count > 50:
        later = agent_client.get(reverse("dashboard:returns"), {"after": response.context["next_cursor"]})
        assert len(later.context["returns"]) == count - 50
        assert not set(_numbers(later)) & set(_numbers(response))


# --- one return -----------------------------------------------------------------------------------


def test_the_return_page_shows_lines_terms_photos_history_and_the_ticket(
    agent_client, agent, merchant, policy, changed_mind, png_upload
):
    customer = CustomerFactory(merchant=merchant)
    earlier = make_return(make_order(merchant, customer=customer), changed_mind, when=at(0))
    return_request_reject(return_request=earlier, actor=agent, reason="Worn outside")
    cancelled = make_return(make_order(merchant, customer=customer), changed_mind, when=at(1))
    return_request_cancel(return_request=cancelled, actor=agent)
    order = make_order(merchant, customer=customer, lines=1)
    OrderLineFactory(
        order=order,
        line_number="2",
        product=ProductFactory(merchant=merchant, category="boots", sku="BOOT-42"),
        sku="BOOT-42",
        name="Trail boots",
        quantity=1,
        unit_price=Decimal("800.00"),
        discount_amount=Decimal("0.00"),
    )
    return_request = make_return(
        order, changed_mind, when=at(2), files=[png_upload("scuff.png")], note="Too small after all"
    )

    with time_machine.travel(at(20), tick=False):
        response = agent_client.get(_url("dashboard:return", return_request))

    assert response.status_code == 200
    lines = response.context["lines"]
    assert [(s.line.order_line.sku, s.line.quantity, s.line.unit_refund_amount) for s in lines] == [
        (return_request.lines.order_by("id")[0].order_line.sku, 1, Decimal("290.00")),
        ("BOOT-42", 1, Decimal("720.00")),
    ]
    floor, rule = (s.terms for s in lines)
    assert (floor.rule, floor.window_days, floor.legal_floor_applies, floor.restocking_fee_percent) == (
        "",
        7,
        True,
        Decimal("0.00"),
    )
    assert floor.allowed_resolutions == ["Refund to the original payment"]
    assert (rule.rule, rule.window_days, rule.legal_floor_applies, rule.restocking_fee_percent) == (
        "Boots: 30 days",
        30,
        False,
        Decimal("10.00"),
    )
    assert rule.allowed_resolutions == ["Refund to the original payment", "Exchange for another variant"]
    assert response.context["estimated_refund"] == Decimal("1010.00")
    photo = Attachment.objects.get(ticket=return_request.ticket)
    history = response.context["history"]
    assert [r.pk for r in history.returns] == [return_request.pk, cancelled.pk, earlier.pk]
    assert (history.count, history.rejected_count) == (3, 1)
    # Only the return still standing may pay: the rejected and cancelled ones add nothing.
    assert history.estimated_total == Decimal("1010.00")
    assert history.flags == ["1 return rejected"]
    html = response.content.decode()
    assert f'src="{reverse("dashboard:attachment", kwargs={"pk": photo.pk})}"' in html
    assert f'href="{reverse("dashboard:ticket", kwargs={"number": return_request.ticket.number})}"' in html
    assert "Too small after all" in html
    assert "Changed my mind" in html
    assert "BOOT-42" in html
    # On a phone the terms are a card per line, each value beside its label
    assert '<td data-label="Rule">Boots: 30 days</td>' in html
    # Each line's window end, in the merchant's time zone: 7 days, and 30 for the boots.
    assert 'datetime="2026-11-18T00:00:00+08:00"' in html
    assert 'datetime="2026-12-11T00:00:00+08:00"' in html
    assert f'action="{_url("dashboard:return_approve", return_request)}"' in html
    assert f'action="{_url("dashboard:return_reject", return_request)}"' in html
    assert f'action="{_url("dashboard:return_cancel", return_request)}"' in html


def test_a_decided_return_offers_only_the_decisions_its_status_allows(
    agent_client, agent, merchant, policy, changed_mind
):
    return_request = make_return(make_order(merchant), changed_mind)
    return_request_reject(return_request=return_request, actor=agent, reason="Worn outside")

    response = agent_client.get(_url("dashboard:return", return_request))

    html = response.content.decode()
    assert (response.context["can_approve"], response.context["can_reject"], response.context["can_cancel"]) == (
        False,
        False,
        False,
    )
    assert "/approve/" not in html
    assert "/reject/" not in html
    assert "/cancel/" not in html
    assert "Worn outside" in html


# auth and header 3, the return with its ticket, customer, order and reason, its lines, its photos,
# the customer's history: the summary and the list, its timers (a submitted return has no parcel
# nor ledger to read)
RETURN_PAGE_QUERIES = 9


@pytest.mark.parametrize("lines", [1, 5])
def test_the_return_page_costs_the_same_queries_however_many_lines(
    agent_client, merchant, policy, changed_mind, lines, django_assert_num_queries, png_upload
):
    customer = CustomerFactory(merchant=merchant)
    for i in range(lines):
        make_return(make_order(merchant, customer=customer), changed_mind, when=at(i))
    return_request = make_return(
        make_order(merchant, customer=customer, lines=lines),
        changed_mind,
        when=at(10),
        files=[png_upload(f"p{i}.png") for i in range(lines)],
    )

    with django_assert_num_queries(RETURN_PAGE_QUERIES):
        response = agent_client.get(_url("dashboard:return", return_request))

    assert response.status_code == 200
    assert len(response.context["lines"]) == lines
    assert len(response.context["photos"]) == lines
    assert response.context["history"].count == lines + 1


# --- decisions ------------------------------------------------------------------------------------


def test_approve_approves_the_return_and_the_customer_ships_next(agent_client, agent, merchant, policy, changed_mind):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)

    response = agent_client.post(
        _url("dashboard:return_approve", return_request), {"note": "Ship it back"}, follow=True
    )

    after = _snapshot(return_request)
    assert response.redirect_chain == [(_url("dashboard:return", return_request), 302)]
    assert flash_messages(response) == ["Return approved."]
    # The item comes back: the customer's move.
    assert (after["status"], after["ticket_status"]) == (ReturnStatus.APPROVED, TicketStatus.WAITING_CUSTOMER)
    assert after["decided_at"] is not None
    assert after["events"] == [*before["events"], "return_approved", "status_changed"]
    event = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_approved")
    assert (event.actor_user_id, event.data["note"], event.is_public) == (agent.pk, "Ship it back", True)
    assert after["requested"] == before["requested"]


def test_a_return_held_for_review_shows_why_and_can_be_approved(agent_client, agent, merchant, policy, changed_mind):
    policy.risk_max_returns = 1
    policy.save()
    customer = CustomerFactory(merchant=merchant)
    make_return(make_order(merchant, customer=customer), changed_mind, when=at(0))
    held = make_return(make_order(merchant, customer=customer), changed_mind, when=at(1))
    assert held.status == ReturnStatus.NEEDS_REVIEW

    queue = agent_client.get(reverse("dashboard:returns"))
    page = agent_client.get(_url("dashboard:return", held))
    response = agent_client.post(_url("dashboard:return_approve", held), follow=True)

    assert held.ticket.number in _numbers(queue)
    assert page.context["review_reasons"] == ["2 returns in the policy's look-back; the limit is 1."]
    assert page.context["history"].flags == ["1 return flagged for review"]
    assert "2 returns in the policy&#x27;s look-back; the limit is 1." in page.content.decode()
    assert flash_messages(response) == ["Return approved."]
    held.refresh_from_db()
    assert held.status == ReturnStatus.APPROVED


def test_reject_records_the_reason_the_customer_sees_and_waits_on_them(
    agent_client, agent, merchant, policy, changed_mind
):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)

    response = agent_client.post(
        _url("dashboard:return_reject", return_request), {"reason": "  The tags were removed.  "}, follow=True
    )

    after = _snapshot(return_request)
    assert response.redirect_chain == [(_url("dashboard:return", return_request), 302)]
    assert flash_messages(response) == ["Return rejected; the customer sees your reason."]
    assert (after["status"], after["ticket_status"]) == (ReturnStatus.REJECTED, TicketStatus.WAITING_CUSTOMER)
    assert after["rejection_reason"] == "The tags were removed."
    assert after["events"] == [*before["events"], "return_rejected", "status_changed"]
    event = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_rejected")
    assert (event.actor_user_id, event.data["reason"], event.is_public) == (agent.pk, "The tags were removed.", True)
    # A rejected return still holds its units: the customer may revise or escalate it.
    assert after["requested"] == before["requested"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_says_so_and_changes_nothing(agent_client, merchant, policy, changed_mind, reason):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)

    response = agent_client.post(_url("dashboard:return_reject", return_request), {"reason": reason})

    assert response.status_code == 400
    assert "Tell the customer why." in response.content.decode()
    assert response.context["reject_form"].errors == {"reason": ["Tell the customer why."]}
    assert _snapshot(return_request) == before


def test_a_step_taken_on_a_stale_page_says_why_nothing_happened(agent_client, agent, merchant, policy, changed_mind):
    # Given a return another agent approved after this page was loaded
    return_request = make_return(make_order(merchant), changed_mind)
    return_request_approve(return_request=return_request, actor=agent)
    before = _snapshot(return_request)

    # When this agent presses Reject there with no reason (its form is gone from the fresh page)
    response = agent_client.post(_url("dashboard:return_reject", return_request), {"reason": ""})

    # Then the page says why nothing happened, instead of a page with no error on it
    assert response.status_code == 400
    assert flash_messages(response) == [
        "Nothing was changed: this return is now “Approved” and that step is no longer open."
    ]
    assert _snapshot(return_request) == before


def test_cancel_withdraws_the_return_for_the_customer_and_frees_its_units(
    agent_client, agent, merchant, policy, changed_mind
):
    return_request = make_return(make_order(merchant, lines=2), changed_mind, quantity=2)
    before = _snapshot(return_request)
    assert [requested for _pk, requested in before["requested"]] == [2, 2]

    response = agent_client.post(_url("dashboard:return_cancel", return_request), follow=True)

    after = _snapshot(return_request)
    assert flash_messages(response) == ["Return cancelled on the customer's behalf."]
    assert (after["status"], after["ticket_status"]) == (ReturnStatus.CANCELLED, TicketStatus.CANCELLED)
    assert after["events"] == [*before["events"], "return_cancelled", "status_changed"]
    assert [requested for _pk, requested in after["requested"]] == [0, 0]
    event = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_cancelled")
    assert (event.actor_user_id, event.actor_customer_id) == (agent.pk, None)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("dashboard:return_approve", "A return that is Rejected cannot become Approved."),
        ("dashboard:return_reject", "A return that is Rejected cannot become Rejected."),
        ("dashboard:return_cancel", "A return that is Rejected cannot become Cancelled."),
    ],
)
def test_a_refused_decision_shows_the_domain_message_and_changes_nothing(
    agent_client, agent, merchant, policy, changed_mind, action, message
):
    return_request = make_return(make_order(merchant), changed_mind)
    return_request_reject(return_request=return_request, actor=agent, reason="Worn outside")
    before = _snapshot(return_request)

    response = agent_client.post(_url(action, return_request), ACTION_PAYLOAD, follow=True)

    assert response.redirect_chain == [(_url("dashboard:return", return_request), 302)]
    assert flash_messages(response) == [message]
    assert _snapshot(return_request) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_decisions_take_only_post(agent_client, merchant, policy, changed_mind, action):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)

    response = agent_client.get(_url(action, return_request))

    assert response.status_code == 405
    assert _snapshot(return_request) == before


# --- access: anonymous, another merchant, technician, warehouse ---------------------------------------


@pytest.mark.parametrize("name", ["dashboard:return", *ACTIONS])
def test_every_return_page_and_action_sends_an_anonymous_visitor_to_the_login(
    client, merchant, policy, changed_mind, name
):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)
    url = _url(name, return_request)

    response = client.post(url, ACTION_PAYLOAD) if name in ACTIONS else client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dashboard:login')}?next={url}"
    assert _snapshot(return_request) == before
    assert client.get(reverse("dashboard:returns")).status_code == 302


@pytest.fixture
def outsider_client(client, db):
    """A merchant admin of a second shop, which has a return of its own."""
    outsider = MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user
    client.force_login(outsider)
    return client


def test_another_merchants_staff_never_see_the_return_in_their_queue(outsider_client, merchant, policy, changed_mind):
    make_return(make_order(merchant), changed_mind)

    response = outsider_client.get(reverse("dashboard:returns"), {"status": "all"})

    assert response.status_code == 200
    assert _numbers(response) == []


@pytest.mark.parametrize("name", ["dashboard:return", *ACTIONS])
def test_another_merchants_staff_get_404_for_every_return_page_and_action(
    outsider_client, merchant, policy, changed_mind, name
):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)
    url = _url(name, return_request)

    response = outsider_client.post(url, ACTION_PAYLOAD) if name in ACTIONS else outsider_client.get(url)

    assert response.status_code == 404
    assert _snapshot(return_request) == before


def test_a_technician_has_no_returns_queue_and_no_returns_link(client, technician, merchant, policy, changed_mind):
    make_return(make_order(merchant), changed_mind)
    client.force_login(technician)

    response = client.get(reverse("dashboard:returns"))

    assert response.status_code == 403
    assert "returns" not in response.context
    assert f'href="{reverse("dashboard:returns")}"' not in client.get(reverse("dashboard:queue")).content.decode()


@pytest.mark.parametrize("name", ["dashboard:return", *ACTIONS])
def test_a_technician_gets_404_for_every_return_page_and_action(
    client, technician, merchant, policy, changed_mind, name
):
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)
    client.force_login(technician)
    url = _url(name, return_request)

    response = client.post(url, ACTION_PAYLOAD) if name in ACTIONS else client.get(url)

    assert response.status_code == 404
    # The same answer as the ticket page gives them.
    assert client.get(reverse("dashboard:ticket", kwargs={"number": return_request.ticket.number})).status_code == 404
    assert _snapshot(return_request) == before


def test_the_warehouse_works_returns_and_exchanges_but_not_refund_only_claims_as_on_the_ticket_pages(
    client, warehouse, merchant, policy, changed_mind
):
    parcel = make_return(make_order(merchant), changed_mind, when=at(0))
    exchange = make_return(make_order(merchant, category="boots"), changed_mind, when=at(1), resolution="exchange")
    refund_only = make_return(
        make_order(merchant, delivered_at=None), changed_mind, when=at(2), resolution="refund_only"
    )
    assert refund_only.ticket.kind == TicketKind.REFUND_ONLY
    client.force_login(warehouse)

    queue = client.get(reverse("dashboard:returns"))
    pages = {r.pk: client.get(_url("dashboard:return", r)).status_code for r in (parcel, exchange, refund_only)}
    tickets = {
        r.pk: client.get(reverse("dashboard:ticket", kwargs={"number": r.ticket.number})).status_code
        for r in (parcel, exchange, refund_only)
    }

    assert _numbers(queue) == [exchange.ticket.number, parcel.ticket.number]
    assert f'href="{reverse("dashboard:returns")}"' in queue.content.decode()
    assert pages == tickets == {parcel.pk: 200, exchange.pk: 200, refund_only.pk: 404}


# --- the ticket page's return box ------------------------------------------------------------------


def test_the_ticket_page_links_to_its_return(agent_client, merchant, policy, changed_mind):
    return_request = make_return(make_order(merchant), changed_mind, quantity=2)

    response = agent_client.get(reverse("dashboard:ticket", kwargs={"number": return_request.ticket.number}))

    assert response.status_code == 200
    box = response.context["ticket_return"]
    assert (box.pk, box.item_count, box.estimated_refund) == (return_request.pk, 2, Decimal("580.00"))
    html = response.content.decode()
    assert 'id="return-box-title"' in html
    assert f'href="{_url("dashboard:return", return_request)}"' in html


def test_a_ticket_without_a_return_shows_no_return_box(agent_client, merchant):
    order = make_order(merchant)
    ticket = ticket_create(
        merchant=merchant,
        kind=TicketKind.RETURN,
        subject="Typed in by phone",
        body="They will send it back",
        customer=order.customer,
        channel=TicketChannel.PHONE,
        order=order,
    )

    response = agent_client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number}))

    assert response.status_code == 200
    assert response.context["ticket_return"] is None
    assert 'id="return-box-title"' not in response.content.decode()


@pytest.mark.parametrize("decision", ["return_approve", "return_reject"])
def test_the_warehouse_sees_no_decision_and_a_decision_it_posts_is_refused_with_nothing_changed(
    client, warehouse, merchant, policy, changed_mind, decision
):
    # Given a return waiting for a decision, and the warehouse signed in
    return_request = make_return(make_order(merchant), changed_mind)
    before = _snapshot(return_request)
    client.force_login(warehouse)

    # When the warehouse opens the return, then posts a decision anyway
    page = client.get(_url("dashboard:return", return_request))
    response = client.post(_url(f"dashboard:{decision}", return_request), {"reason": "No", "note": ""}, follow=True)

    # Then the page offers no decision but says who decides, and the post changed nothing
    html = page.content.decode()
    assert (page.context["can_approve"], page.context["can_reject"], page.context["decision_needs_role"]) == (
        False,
        False,
        True,
    )
    assert _url("dashboard:return_approve", return_request) not in html
    assert "Agents, supervisors and merchant admins approve or reject returns." in html
    assert flash_messages(response) == [
        "Your role does not decide returns: an agent or a supervisor approves or rejects them."
    ]
    assert _snapshot(return_request) == before
