"""Every API endpoint, asked by another merchant: its key and its staff get 404 on our rows, never
see them in a list, and cannot write to them or through them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.models import Customer, Membership, Order, Product, Store
from aftersales.selectors import SESSION_MERCHANT_KEY
from aftersales.tests.factories import (
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StoreFactory,
    api_key_for,
)
from tickets.models import Message, Tag, Ticket, TicketChannel, TicketEvent, TicketKind
from tickets.services import ticket_create
from tickets.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


class Shop:
    """One merchant with one of everything the API shows."""

    def __init__(self, name: str, kind: str):
        self.merchant = MerchantFactory.create(name=name)
        self.store = StoreFactory.create(merchant=self.merchant)
        self.order = OrderFactory.create(merchant=self.merchant, store=self.store)
        self.line = OrderLineFactory.create(order=self.order)
        self.product = ProductFactory.create(merchant=self.merchant)
        self.customer = self.order.customer
        self.agent = MembershipFactory.create(merchant=self.merchant, role=Membership.Role.AGENT).user
        self.team = TeamFactory.create(merchant=self.merchant)
        self.ticket = ticket_create(
            merchant=self.merchant,
            kind=kind,
            subject=f"{name}'s case",
            body="It does not switch on.",
            customer=self.customer,
            channel=TicketChannel.PORTAL,
            order=self.order,
        )
        self.key, self.full_key = api_key_for(self.merchant)


@pytest.fixture
def ours():
    # Numbers are per merchant: our case is RT-000001, theirs SUP-000001, so a 404 cannot come
    # from a number that only exists at one merchant by accident of the counter.
    return Shop("Ours", TicketKind.RETURN)


@pytest.fixture
def theirs():
    return Shop("Theirs", TicketKind.SUPPORT)


def _key_client(shop: Shop) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {shop.full_key}")
    return client


def _staff_client(shop: Shop) -> APIClient:
    client = APIClient()
    client.force_login(shop.agent)
    return client


def _supervisor_of_both_working_for_theirs(ours: Shop, theirs: Shop) -> APIClient:
    """A person on both merchants' staff who picked the other merchant in the switcher."""
    user = MembershipFactory.create(merchant=theirs.merchant, role=Membership.Role.SUPERVISOR).user
    MembershipFactory.create(merchant=ours.merchant, user=user, role=Membership.Role.SUPERVISOR)
    client = APIClient()
    client.force_login(user)
    session = client.session
    session[SESSION_MERCHANT_KEY] = theirs.merchant.pk
    session.save()
    return client


CALLERS = ["their_key", "their_staff", "staff_of_both_working_for_them"]


@pytest.fixture(params=CALLERS)
def stranger(request, ours, theirs):
    if request.param == "their_key":
        return _key_client(theirs)
    if request.param == "their_staff":
        return _staff_client(theirs)
    return _supervisor_of_both_working_for_theirs(ours, theirs)


def _snapshot():
    """Everything an API write could touch, counted."""
    return {
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "messages": Message.objects.count(),
        "tags": Tag.objects.count(),
        "orders": Order.objects.count(),
        "customers": Customer.objects.count(),
        "products": Product.objects.count(),
        "stores": Store.objects.count(),
        "ticket_rows": list(
            Ticket.objects.order_by("pk").values_list("status", "priority", "assignee_id", "team_id", "updated_at")
        ),
        "order_rows": list(Order.objects.order_by("pk").values_list("placed_at", "updated_at")),
    }


# --- reads ---------------------------------------------------------------------------------------


def _detail_urls(shop: Shop) -> list[str]:
    number = {"number": shop.ticket.number}
    return [
        reverse("api:ticket-detail", kwargs=number),
        reverse("api:ticket-messages", kwargs=number),
        reverse("api:order-detail", kwargs={"order_id": shop.order.pk}),
        reverse("api:customer-detail", kwargs={"customer_id": shop.customer.pk}),
        reverse("api:product-detail", kwargs={"product_id": shop.product.pk}),
    ]


def test_another_merchant_gets_404_on_each_of_our_rows(stranger, ours, theirs):
    for url in _detail_urls(ours):
        response = stranger.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    # …while the same caller reads its own rows, so the 404 is about tenancy, not the endpoint.
    for url in _detail_urls(theirs):
        assert stranger.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("name", "key", "rows_of"),
    [
        ("api:ticket-list", "number", lambda shop: {shop.ticket.number}),
        ("api:order-list", "id", lambda shop: {shop.order.pk}),
        ("api:customer-list", "id", lambda shop: {shop.customer.pk}),
        # the order line brought a product of its own besides the catalogue's one
        ("api:product-list", "id", lambda shop: {shop.product.pk, shop.line.product_id}),
        ("api:store-list", "id", lambda shop: {shop.store.pk}),
    ],
)
def test_lists_show_only_the_callers_own_rows(stranger, ours, theirs, name, key, rows_of):
    response = stranger.get(reverse(name))

    assert response.status_code == 200
    listed = [row[key] for row in response.json()["results"]]
    assert len(listed) == len(rows_of(theirs))
    assert set(listed) == rows_of(theirs)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("api:ticket-list", lambda shop: {"customer": shop.customer.pk}),
        ("api:ticket-list", lambda shop: {"q": shop.ticket.number}),
        ("api:ticket-list", lambda shop: {"q": shop.customer.email}),
        ("api:ticket-list", lambda shop: {"order_number": shop.order.external_number}),
        ("api:order-list", lambda shop: {"number": shop.order.external_number}),
        ("api:order-list", lambda shop: {"customer": shop.customer.pk}),
        ("api:customer-list", lambda shop: {"email": shop.customer.email}),
        ("api:customer-list", lambda shop: {"phone": shop.customer.phone}),
        ("api:product-list", lambda shop: {"sku": shop.product.sku}),
    ],
)
def test_filtering_by_our_identifiers_finds_nothing(stranger, ours, name, params):
    response = stranger.get(reverse(name), params(ours))

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_same_ticket_number_at_two_merchants_reads_each_callers_own(ours, theirs):
    # Given each merchant has its own SUP-000001
    mine = ticket_create(
        merchant=ours.merchant,
        kind=TicketKind.SUPPORT,
        subject="Ours too",
        body="b",
        customer=ours.customer,
        channel=TicketChannel.PORTAL,
    )
    assert mine.number == theirs.ticket.number == "SUP-000001"

    # When each asks for that number, then each reads its own case
    url = reverse("api:ticket-detail", kwargs={"number": "SUP-000001"})
    assert _key_client(ours).get(url).json()["subject"] == "Ours too"
    assert _key_client(theirs).get(url).json()["subject"] == "Theirs's case"
    assert _staff_client(theirs).get(url).json()["subject"] == "Theirs's case"


# --- writes on our tickets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("api:ticket-messages", {"kind": "reply", "body": "Hello from elsewhere"}),
        ("api:ticket-messages", {"kind": "note", "body": "Hello from elsewhere"}),
        ("api:ticket-assign", {"assignee": None}),
        ("api:ticket-status", {"status": "resolved"}),
        ("api:ticket-priority", {"priority": 40}),
        ("api:ticket-tags", {"tags": ["spam"]}),
    ],
)
def test_another_merchant_cannot_act_on_our_ticket(stranger, ours, name, body):
    before = _snapshot()

    response = stranger.post(reverse(name, kwargs={"number": ours.ticket.number}), body, format="json")

    assert response.status_code == 404
    assert _snapshot() == before


def test_another_merchant_cannot_open_a_ticket_for_our_customer_or_order(stranger, ours, theirs):
    before = _snapshot()
    url = reverse("api:ticket-list")
    base = {"kind": "support", "subject": "x", "body": "y"}

    by_customer = stranger.post(url, {**base, "customer": ours.customer.pk}, format="json")
    by_order = stranger.post(url, {**base, "order": ours.order.pk}, format="json")
    by_line = stranger.post(url, {**base, "order": theirs.order.pk, "order_lines": [ours.line.pk]}, format="json")

    assert (by_customer.status_code, by_customer.json()["error"]["code"]) == (400, "unknown_customer")
    assert (by_order.status_code, by_order.json()["error"]["code"]) == (400, "unknown_order")
    assert (by_line.status_code, by_line.json()["error"]["code"]) == (400, "lines_not_on_order")
    assert _snapshot() == before


def test_an_email_of_our_customer_makes_a_separate_customer_of_theirs(stranger, ours, theirs):
    response = stranger.post(
        reverse("api:ticket-list"),
        {"kind": "support", "subject": "x", "body": "y", "customer_email": ours.customer.email},
        format="json",
    )

    assert response.status_code == 201
    created = Ticket.objects.get(number=response.json()["number"], merchant=theirs.merchant)
    assert created.customer.merchant == theirs.merchant
    assert created.customer_id != ours.customer.pk
    assert Ticket.objects.filter(merchant=ours.merchant).count() == 1


def test_another_merchant_cannot_assign_their_ticket_to_our_staff_or_team(stranger, ours, theirs):
    before = _snapshot()
    url = reverse("api:ticket-assign", kwargs={"number": theirs.ticket.number})

    to_our_agent = stranger.post(url, {"assignee": ours.agent.pk}, format="json")
    to_our_team = stranger.post(url, {"assignee": None, "team": ours.team.pk}, format="json")

    assert (to_our_agent.status_code, to_our_agent.json()["error"]["code"]) == (400, "unknown_assignee")
    assert (to_our_team.status_code, to_our_team.json()["error"]["code"]) == (400, "unknown_team")
    assert _snapshot() == before


# --- writes through orders -----------------------------------------------------------------------


def _order_payload(store: Store, number: str) -> dict:
    return {
        "store": store.pk,
        "number": number,
        "placed_at": (timezone.now() - timedelta(days=2)).isoformat(),
        "customer": {"email": "buyer@example.com"},
        "lines": [{"line_number": "1", "sku": "X-1", "quantity": 1, "unit_price": "10.00"}],
    }


def test_another_merchant_cannot_push_orders_into_our_store(stranger, ours):
    before = _snapshot()

    one = stranger.post(reverse("api:order-list"), _order_payload(ours.store, "EVIL-1"), format="json")
    overwrite = stranger.post(
        reverse("api:order-list"), _order_payload(ours.store, ours.order.external_number), format="json"
    )
    batch = stranger.post(reverse("api:order-list"), [_order_payload(ours.store, "EVIL-2")], format="json")

    assert (one.status_code, one.json()["error"]["code"]) == (400, "unknown_store")
    assert (overwrite.status_code, overwrite.json()["error"]["code"]) == (400, "unknown_store")
    assert batch.status_code == 400
    assert batch.json()[0]["errors"]["code"] == "unknown_store"
    assert _snapshot() == before


def test_the_same_order_number_in_each_merchants_store_stays_two_orders(ours, theirs):
    _key_client(ours).post(reverse("api:order-list"), _order_payload(ours.store, "SAME-1"), format="json")
    _key_client(theirs).post(reverse("api:order-list"), _order_payload(theirs.store, "SAME-1"), format="json")

    orders = Order.objects.filter(external_number="SAME-1")
    assert sorted(order.merchant.name for order in orders) == ["Ours", "Theirs"]
    assert orders.get(merchant=ours.merchant).customer.merchant == ours.merchant
    assert orders.get(merchant=theirs.merchant).customer.merchant == theirs.merchant


def test_a_user_without_any_membership_is_refused(ours):
    from aftersales.tests.factories import UserFactory

    client = APIClient()
    client.force_login(UserFactory.create())

    response = client.get(reverse("api:ticket-list"))

    assert response.status_code == 403


def test_an_inactive_merchants_key_gets_401(ours):
    type(ours.merchant).objects.filter(pk=ours.merchant.pk).update(is_active=False)

    response = _key_client(ours).get(reverse("api:ticket-list"))

    assert response.status_code == 401


def test_staff_whose_membership_was_deactivated_are_refused(ours):
    Membership.objects.filter(user=ours.agent).update(is_active=False)

    response = _staff_client(ours).get(reverse("api:ticket-detail", kwargs={"number": ours.ticket.number}))

    assert response.status_code == 403
