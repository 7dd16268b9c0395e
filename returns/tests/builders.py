"""Builders for the returns tests: plain functions, so each test reads its given.

- the journey: a world (a merchant with its staff, policy and reason, an order) and a return driven
  through the services to any step (``make_world``, ``submit``, ``drive``, ``inspect_all``, …);
- settlement: a policy allowing every resolution and an approved return (``settlement_setup``,
  ``approved_return``), the payment endpoint of a shop platform, and threads racing one action;
- exchanges for another variant (``variant_shop``, ``exchange``, ``received``);
- the API client of a merchant;
- the portal's return pages (``portal_order``, ``start_url``, ``confirm``, …), whose fixtures are
  in conftest.py.
"""

import html
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.models import Customer, Membership, Merchant, Notification, Order, OrderLine, Product, User
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    api_key_for,
)
from aftersales.tests.races import race  # noqa: F401 — the returns tests race through this module
from aftersales.tests.servers import LoopbackHTTPServer
from returns.models import (
    CarrierClaim,
    Refund,
    RefundGateway,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from returns.services import (
    LineInspection,
    return_parcel_declare_lost,
    return_rejected_units_send,
    return_request_approve,
    return_request_create,
    return_request_receive,
    return_request_reject,
    return_shipping_choose,
    return_tracking_add,
)
from returns.tests.factories import ReturnPolicyFactory, ReturnReasonFactory
from tickets.models import Attachment, Ticket, TicketEvent

# --- the journey ----------------------------------------------------------------------------------


RETURN_ADDRESS = "Returns dept., 88 Warehouse Road, Hangzhou"


@dataclass
class World:
    merchant: Merchant
    policy: ReturnPolicy
    reason: ReturnReason
    customer: Customer
    order: Order
    lines: list[OrderLine]
    agent: User
    supervisor: User
    warehouse: User


def make_world(*, tier: str = Customer.Tier.REGULAR, quantities=(2, 1), **policy_fields) -> World:
    merchant = MerchantFactory.create()
    policy = ReturnPolicyFactory.create(merchant=merchant, return_address=RETURN_ADDRESS, **policy_fields)
    reason = ReturnReasonFactory.create(
        merchant=merchant, code="changed_mind", name="Changed my mind", responsibility="customer"
    )
    customer = CustomerFactory.create(merchant=merchant, tier=tier)
    order = make_order(merchant, customer)
    lines = [
        OrderLineFactory.create(order=order, line_number=str(number), quantity=quantity, unit_price=Decimal("100.00"))
        for number, quantity in enumerate(quantities, start=1)
    ]
    return World(
        merchant=merchant,
        policy=policy,
        reason=reason,
        customer=customer,
        order=order,
        lines=lines,
        agent=MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user,
        supervisor=MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user,
        warehouse=MembershipFactory.create(merchant=merchant, role=Membership.Role.WAREHOUSE).user,
    )


def make_order(merchant: Merchant, customer: Customer) -> Order:
    placed = timezone.now() - timedelta(days=4)
    return OrderFactory.create(
        merchant=merchant,
        customer=customer,
        placed_at=placed,
        shipped_at=placed + timedelta(days=1),
        delivered_at=placed + timedelta(days=2),
    )


def submit(world: World, *, order: Order | None = None, quantities=None, files=(), resolution="refund"):
    """A return of every unit of the order's lines (or ``quantities`` per line, in order)."""
    order = order or world.order
    lines = list(order.lines.order_by("pk"))
    quantities = quantities or [line.quantity for line in lines]
    return return_request_create(
        order=order,
        customer=order.customer,
        lines=[(line, quantity) for line, quantity in zip(lines, quantities, strict=True) if quantity],
        reason=world.reason,
        resolution=resolution,
        files=files,
    )


def drive(world: World, return_request: ReturnRequest, to: str) -> ReturnRequest:
    """Move a submitted return through the services to ``to``."""
    paths: dict[str, list[str]] = {
        ReturnStatus.SUBMITTED: [],
        ReturnStatus.APPROVED: ["approve"],
        ReturnStatus.REJECTED: ["reject"],
        ReturnStatus.AWAITING_SHIPMENT: ["approve", "ship"],
        ReturnStatus.IN_TRANSIT: ["approve", "ship", "track"],
        ReturnStatus.RECEIVED: ["approve", "ship", "track", "receive"],
    }
    path = paths[to]
    for step in path:
        if step == "approve":
            return_request = return_request_approve(return_request=return_request, actor=world.agent)
        elif step == "reject":
            return_request = return_request_reject(
                return_request=return_request, actor=world.agent, reason="The seal is broken."
            )
        elif step == "ship":
            return_shipping_choose(return_request=return_request, method="drop_off", customer=world.customer)
        elif step == "track":
            return_request = return_tracking_add(
                return_request=return_request,
                carrier="SF Express",
                tracking_number=f"SF{return_request.pk:010d}",
                customer=world.customer,
            )
        elif step == "receive":
            return_request = return_request_receive(return_request=return_request, actor=world.warehouse)
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def inspect_all(return_request: ReturnRequest, *, rejected_per_line: int = 0) -> list[LineInspection]:
    """An inspection that accepts every received unit but ``rejected_per_line`` of each line."""
    return [
        LineInspection(
            return_line_id=line.pk,
            accepted=line.quantity_received - rejected_per_line,
            rejected=rejected_per_line,
            grade="good",
            disposition="restock" if line.quantity_received - rejected_per_line else "",
        )
        for line in return_request.lines.order_by("pk")
    ]


def send_back(return_request: ReturnRequest, actor: User, *, tracking_number: str = ""):
    """The units inspection rejected, sent back to the customer with a carrier."""
    return return_rejected_units_send(
        return_request=return_request,
        actor=actor,
        carrier="SF Express",
        tracking_number=tracking_number or f"SFB{return_request.pk:09d}",
    )


def counters(order: Order) -> list[tuple[int, int, int]]:
    return list(
        OrderLine.objects.filter(order=order)
        .order_by("pk")
        .values_list("quantity_requested", "quantity_received", "quantity_accepted")
    )


def in_transit(world: World, **submit_kwargs) -> ReturnRequest:
    """A return submitted (``submit``'s arguments) and driven to in transit."""
    return drive(world, submit(world, **submit_kwargs), ReturnStatus.IN_TRANSIT)


def lost_claim(world: World, *, note: str = "", **submit_kwargs) -> CarrierClaim:
    """A return in transit whose parcel a supervisor declared lost, and the carrier claim it opened."""
    return_request = in_transit(world, **submit_kwargs)
    return_parcel_declare_lost(return_request=return_request, actor=world.supervisor, note=note)
    return CarrierClaim.objects.select_related("return_request__ticket").get(return_request=return_request)


def every_resolution_world(*, rule_name: str = "Everything", **world_kwargs) -> World:
    """``make_world`` with a first rule allowing every resolution for 15 days, no restocking fee."""
    world = make_world(**world_kwargs)
    world.policy.rules.create(position=1, name=rule_name, window_days=15, allowed_resolutions=ALL_RESOLUTIONS)
    return world


# --- settlement: refunds, store credit, payment endpoints, races ----------------------------------


ALL_RESOLUTIONS = ["refund", "store_credit", "exchange", "refund_only", "keep_item"]


def settlement_setup(*, fee_percent: Decimal = Decimal("0"), shipping: Decimal = Decimal("0")) -> dict:
    """A merchant whose policy allows every resolution for 15 days (so the rule, not the 7-day
    floor, sets the terms), an order delivered two days ago with one line of 2 × 300.00 less a
    20.00 discount (580.00 paid, 290.00 a unit), and a supervisor."""
    merchant = MerchantFactory.create(timezone="Asia/Shanghai")
    policy = ReturnPolicyFactory.create(merchant=merchant)
    policy.rules.create(
        position=1,
        name="Everything, 15 days",
        window_days=15,
        allowed_resolutions=ALL_RESOLUTIONS,
        restocking_fee_percent=fee_percent,
    )
    order = OrderFactory.create(merchant=merchant, shipping_amount=shipping)
    line = OrderLineFactory.create(
        order=order, quantity=2, unit_price=Decimal("300.00"), discount_amount=Decimal("20.00")
    )
    return {
        "merchant": merchant,
        "order": order,
        "line": line,
        "changed_mind": ReturnReasonFactory.create(
            merchant=merchant, code="changed_mind", name="Changed my mind", responsibility="customer"
        ),
        "defect": ReturnReasonFactory.create(
            merchant=merchant, code="defect", name="Defective", responsibility="merchant"
        ),
        "supervisor": MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user,
    }


def approved_return(setup: dict, *, quantity=2, resolution="refund", reason="changed_mind", status=None, line=None):
    """A return created and approved through the services. ``status`` past approval (received,
    inspected, …) is set with a queryset update: those steps are being built by other engineers."""
    return_request = return_request_create(
        order=setup["order"],
        customer=setup["order"].customer,
        lines=[(line or setup["line"], quantity)],
        reason=setup[reason],
        resolution=resolution,
    )
    return_request = return_request_approve(return_request=return_request, actor=setup["supervisor"])
    if status is not None:
        # Arrange only: receiving and inspection belong to the logistics services, built in parallel.
        ReturnRequest.objects.filter(pk=return_request.pk).update(status=status)
        return_request.refresh_from_db()
    return return_request


# --- the API --------------------------------------------------------------------------------------


def api_client(merchant) -> APIClient:
    _key, full_key = api_key_for(merchant, name="Shop sync")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


def return_snapshot(return_request: ReturnRequest) -> tuple:
    """What an action may change: the return's status, its events, refunds and the lines' counters."""
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    return (
        fresh.status,
        TicketEvent.objects.filter(ticket_id=fresh.ticket_id).count(),
        Refund.objects.filter(return_request=fresh).count(),
        list(
            OrderLine.objects.filter(order_id=fresh.order_id)
            .order_by("pk")
            .values_list("quantity_requested", "quantity_received", "quantity_accepted", "quantity_refunded")
        ),
    )


def url(name: str, return_request: ReturnRequest | None = None) -> str:
    if return_request is None:
        return reverse(f"api:{name}")
    return reverse(f"api:{name}", kwargs={"number": return_request.ticket.number})


# --- exchanges for another variant ----------------------------------------------------------------


@dataclass
class Shop:
    world: World
    jacket: OrderLine  # 2 × the jacket M, 100.00 a unit paid
    socks: OrderLine  # 1 pair, no other variant
    small: Product  # S, same price
    large: Product  # L, 120.00: +20.00
    red: Product  # M in red, 85.00: -15.00
    sold_out: Product  # XL, not on sale


def variant_shop() -> Shop:
    """A merchant whose policy allows every resolution for 15 days; an order of 2 jackets (size M,
    black, 100.00 each) and 1 pair of socks (no variants). The jacket comes in S at 100.00, L at
    120.00, M red at 85.00 and XL (no longer on sale); another merchant has a jacket in the same
    group name."""
    world = make_world(quantities=(2, 1))
    world.policy.rules.create(position=1, name="Everything", window_days=15, allowed_resolutions=ALL_RESOLUTIONS)
    jacket, socks = world.lines
    Product.objects.filter(pk=jacket.product_id).update(
        variant_group="JKT", variant_attributes={"size": "M", "colour": "black"}, variant_position=2, price="100.00"
    )

    def variant(sku, position, price, is_active=True, **attributes):
        return ProductFactory.create(
            merchant=world.merchant,
            sku=sku,
            variant_group="JKT",
            variant_position=position,
            variant_attributes=attributes,
            price=Decimal(price),
            is_active=is_active,
        )

    shop = Shop(
        world=world,
        jacket=OrderLine.objects.select_related("product", "order").get(pk=jacket.pk),
        socks=OrderLine.objects.select_related("product", "order").get(pk=socks.pk),
        large=variant("JKT-L", 3, "120.00", size="L", colour="black"),
        small=variant("JKT-S", 1, "100.00", size="S", colour="black"),
        red=variant("JKT-M-RED", 2, "85.00", size="M", colour="red"),
        sold_out=variant("JKT-XL", 4, "140.00", is_active=False, size="XL", colour="black"),
    )
    ProductFactory.create(merchant=world.merchant, sku="JKT-NOPRICE", variant_group="JKT", price=None)
    ProductFactory.create(merchant=MerchantFactory.create(), sku="JKT-XS", variant_group="JKT", price=Decimal("90.00"))
    return shop


def exchange(shop: Shop, wishes: dict, *, quantities=(2, 0), resolution="exchange") -> ReturnRequest:
    world = shop.world
    lines = [(line, quantity) for line, quantity in zip((shop.jacket, shop.socks), quantities, strict=True) if quantity]
    return return_request_create(
        order=world.order,
        customer=world.customer,
        lines=lines,
        reason=world.reason,
        resolution=resolution,
        exchange_products={line.pk: product for line, product in wishes.items()},
    )


def received(shop: Shop, wishes: dict, **kwargs) -> ReturnRequest:
    return drive(shop.world, exchange(shop, wishes, **kwargs), ReturnStatus.RECEIVED)


def nothing_written() -> tuple:
    return (
        ReturnRequest.objects.count(),
        ReturnLine.objects.count(),
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        sorted(OrderLine.objects.values_list("pk", "quantity_requested")),
    )


# --- two clicks at once ---------------------------------------------------------------------------


class RefundEndpoint(LoopbackHTTPServer):
    """A shop platform's refund endpoint on 127.0.0.1, answering from a script: one
    ``(status, body, delay)`` per call, the last repeated. It records what it was sent. The delay
    is seconds, or a ``threading.Event`` the answer waits for: a test that needs the call still in
    flight (or a client's timeout passed) holds the answer until it has seen what it wanted,
    rather than counting on a sleep being longer than whatever the busy machine makes it wait."""

    path = "/refunds"

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        with self.lock:
            self.calls.append(
                {
                    "path": request.path,
                    "key": request.headers["Idempotency-Key"],
                    "authorization": request.headers["Authorization"],
                    "json": json.loads(body),
                }
            )
            status, answer, delay = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(delay, threading.Event):
            delay.wait(timeout=120)
        else:
            time.sleep(delay)
        payload = json.dumps(answer).encode() if isinstance(answer, dict) else answer.encode()
        request.send_response(status)
        if status in (301, 302, 307, 308):
            request.send_header("Location", "http://127.0.0.1:9/elsewhere")
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    @property
    def keys(self) -> list[str]:
        return [call["key"] for call in self.calls]


def http_gateway(merchant, url, **kwargs):
    return RefundGateway.objects.create(merchant=merchant, adapter="http", endpoint_url=url, **kwargs)


# --- quick refunds --------------------------------------------------------------------------------


def quick_refund_world(*, tier=Customer.Tier.VIP, resolutions=("refund", "exchange"), quick=True, **policy_fields):
    world = make_world(tier=tier, **policy_fields)
    world.policy.rules.create(
        position=1, name="Trusted", window_days=30, allowed_resolutions=list(resolutions), quick_refund=quick
    )
    return world


# --- the portal's return pages (fixtures: conftest.py) --------------------------------------------

# Delivered on 10 November, 23:30 in Shanghai. The 7-day floor ends with the 17th; the shop's own
# 30 days end with 10 December, so its window closes at midnight after it (16:00 UTC on the 10th).
DELIVERED = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)
DAY_TEN = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


# Session, merchant, the order's lines with the order (and its customer and store), then the
# return terms: policy, rules, reasons. The same for 2 lines as for 10.
START_PAGE_QUERIES = 6
# Once the merchant's configuration is kept by the process (aftersales.config_cache): the session
# and the order's lines with the order.
START_PAGE_QUERIES_CONFIG_KEPT = 2


def portal_order(shop, number="TG-1001", email="lin@example.com", lines=2):
    order = OrderFactory.create(
        merchant=shop,
        external_number=number,
        customer__email=email,
        placed_at=datetime(2026, 11, 5, tzinfo=UTC),
        shipped_at=datetime(2026, 11, 6, tzinfo=UTC),
        delivered_at=DELIVERED,
    )
    OrderLineFactory.create(
        order=order,
        line_number="1",
        name="Trail Runner 42",
        quantity=2,
        unit_price=Decimal("300.00"),
        discount_amount=Decimal("20.00"),
    )
    for number_ in range(2, lines + 1):
        OrderLineFactory.create(order=order, line_number=str(number_), name=f"Wool Socks {number_}", quantity=1)
    return order


def start_url(order):
    return reverse("portal:return_start", args=[order.merchant.slug, order.pk])


def confirm_url(order):
    return reverse("portal:return_confirm", args=[order.merchant.slug, order.pk])


def ticket_url(ticket):
    return reverse("portal:ticket", args=[ticket.merchant.slug, ticket.number])


CHOICE_FIELD = re.compile(r'<input type="hidden" class="return-choice" name="([^"]+)" value="([^"]*)">')


SUBMISSION_KEY_FIELD = re.compile(r'<input type="hidden" name="submission_key" value="([^"]*)"')


def choices_on(review) -> dict[str, str]:
    """The choices a review page carries in its hidden fields, as the browser posts them back."""
    return {name: html.unescape(value) for name, value in CHOICE_FIELD.findall(review.content.decode())}


def submission_key_on(review) -> str:
    found = SUBMISSION_KEY_FIELD.search(review.content.decode())
    assert found is not None, "no submission key on the review page"
    return found[1]


def choose(client, order, quantities, reason, resolution="refund", description=""):
    """Step 1: valid choices are answered with the review page."""
    data = {f"quantity_{line.pk}": quantity for line, quantity in quantities.items()}
    data.update(reason=reason.pk, resolution=resolution, description=description)
    return client.post(start_url(order), data)


def confirm(client, order, review, **files):
    """Step 2: the review's confirm form (its hidden choices and key) and the ``files`` (photos=[…])."""
    return client.post(confirm_url(order), {**choices_on(review), "submission_key": submission_key_on(review), **files})


def change_choices(client, order, review):
    """The review's "Change my choices" button."""
    return client.post(start_url(order), {**choices_on(review), "change": "1"})


def nothing_written_for(order):
    return (
        ReturnRequest.objects.count(),
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Attachment.objects.count(),
        Notification.objects.count(),
        sorted(OrderLine.objects.filter(order=order).values_list("pk", "quantity_requested")),
    )


def submitted_return(order, line, reason, quantity=2):
    return return_request_create(
        order=order, customer=order.customer, lines=[(line, quantity)], reason=reason, resolution="refund"
    )


# The submission (confirm with a photo) of a 2-line return, from the session to the commit: the
# page's reads (merchant, session, the order's lines with the order, policy, rules, reasons), the
# locked lines (the policy as the page read it), a return of the same submission key, the ticket
# (its number bumped and read back in two ORM statements, row, lines, message, attachment, the
# hub's routing rules, SLA policy), the return (row,
# webhook lookup, lines, both counters in one statement), the routing (the risk figures in one
# statement; merchant-response timer: its row, no lookup on a new case; the case's next deadline),
# the case's events in one statement, its notification, and nothing for the session. A change here
# is a change to the cost of every return a customer sends: look at it, then update the figure.
SUBMISSION_QUERIES = 27
# The same once the merchant's configuration is kept by the process (aftersales.config_cache), as
# it is for every submission after a process's first: no merchant, policy, rules, reasons,
# routing rules, SLA policies nor webhook endpoints.
SUBMISSION_QUERIES_CONFIG_KEPT = 20


def sign_in_client(client, order, capture):
    """Prove the order the way a customer does (lookup, then the code); a grant lasts a day."""
    sign_in(client, capture, order)
    return client
