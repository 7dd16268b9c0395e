"""Builders for the return journey tests: a merchant with its staff and policy, an order, and a
return driven through the services to any step. Plain functions, so each test reads its given."""

import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from aftersales.models import Customer, Membership, Merchant, Order, OrderLine, User
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
)
from returns.models import ReturnPolicy, ReturnReason, ReturnRequest, ReturnStatus
from returns.services import (
    LineInspection,
    return_rejected_units_send,
    return_request_approve,
    return_request_create,
    return_request_receive,
    return_request_reject,
    return_shipping_choose,
    return_tracking_add,
)

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
    merchant = MerchantFactory()
    policy = ReturnPolicy.objects.create(merchant=merchant, return_address=RETURN_ADDRESS, **policy_fields)
    reason = ReturnReason.objects.create(
        merchant=merchant, code="changed_mind", name="Changed my mind", responsibility="customer"
    )
    customer = CustomerFactory(merchant=merchant, tier=tier)
    order = make_order(merchant, customer)
    lines = [
        OrderLineFactory(order=order, line_number=str(number), quantity=quantity, unit_price=Decimal("100.00"))
        for number, quantity in enumerate(quantities, start=1)
    ]
    return World(
        merchant=merchant,
        policy=policy,
        reason=reason,
        customer=customer,
        order=order,
        lines=lines,
        agent=MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user,
        supervisor=MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user,
        warehouse=MembershipFactory(merchant=merchant, role=Membership.Role.WAREHOUSE).user,
    )


def make_order(merchant: Merchant, customer: Customer) -> Order:
    placed = timezone.now() - timedelta(days=4)
    return OrderFactory(
        merchant=merchant,
        customer=customer,
        placed_at=placed,
        shipped_at=placed + timedelta(days=1),
        delivered_at=placed + timedelta(days=2),
    )


def png_upload(name: str = "photo.png", color: tuple[int, int, int] = (200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


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
    path = {
        ReturnStatus.SUBMITTED: [],
        ReturnStatus.APPROVED: ["approve"],
        ReturnStatus.REJECTED: ["reject"],
        ReturnStatus.AWAITING_SHIPMENT: ["approve", "ship"],
        ReturnStatus.IN_TRANSIT: ["approve", "ship", "track"],
        ReturnStatus.RECEIVED: ["approve", "ship", "track", "receive"],
    }[to]
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
