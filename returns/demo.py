"""Returns' part of the demo: each merchant's return policy, its rules and reason tree, and
returns in every status, each on a line it could really be asked for then, moved step by step
through the services. Registered with ``aftersales.demo`` in ``ReturnsConfig.ready``."""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from aftersales.demo import DemoBuilder, DemoSize, DemoSummary, Tenant
from aftersales.models import Customer, Merchant, Order, OrderLine, Product
from returns.models import (
    Disposition,
    ExecutionState,
    ItemGrade,
    Resolution,
    Responsibility,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnRule,
    ReturnStatus,
    ShippingMethod,
)
from returns.policy import active_rules, line_terms
from returns.services import (
    LineInspection,
    exchange_difference_confirm_paid,
    exchange_ship,
    refund_confirm_manual,
    return_pickup_book,
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_escalate,
    return_request_expire,
    return_request_inspect,
    return_request_receive,
    return_request_reject,
    return_request_settle,
    return_shipping_choose,
    return_tracking_add,
)

# The law's exceptions to the 7-day no-reason return that the catalogue sells: perishable food.
EXCEPTED_CATEGORIES = ("food",)
RETURN_ADDRESSES = {
    "demo": (
        "Demo Outdoor 退货仓 收 / Returns dept.\n"
        "浙江省杭州市余杭区仓前街道文一西路 1888 号 3 号仓库\n310000 · 0571-8888 6666"
    ),
    "second": "Second Shop Returns\nNo. 8 Logistics Park Road, Daxing District, Beijing 102600\n010-6666 8888",
}
# (code, parent code, Chinese name, English name, whose responsibility). Merchant data, in the
# merchant's languages: a heading with children is not picked itself, its children are.
RETURN_REASONS = (
    ("changed_mind", "", "不想要了", "Changed my mind", Responsibility.CUSTOMER),
    ("wrong_size", "", "尺码或颜色不合适", "Wrong size or colour", Responsibility.CUSTOMER),
    ("quality", "", "质量问题", "Quality problem", Responsibility.MERCHANT),
    ("defective", "quality", "商品有瑕疵或故障", "Defective or faulty", Responsibility.MERCHANT),
    ("not_as_described", "quality", "与商品描述不符", "Not as described", Responsibility.MERCHANT),
    ("wrong_item", "", "发错货", "Wrong item sent", Responsibility.MERCHANT),
    ("damaged_in_transit", "", "运输途中损坏", "Damaged in transit", Responsibility.COURIER),
)
DEFECT_REASONS = ["defective", "not_as_described", "damaged_in_transit"]
# (position, name, fields) — the first active rule that matches a line applies.
RETURN_RULES = (
    (
        10,
        "Defects and damage: 15 days, photos required",
        {
            "match_reason_codes": DEFECT_REASONS,
            "window_days": 15,
            "allowed_resolutions": [Resolution.REFUND, Resolution.EXCHANGE, Resolution.STORE_CREDIT],
            "photos_required": True,
        },
    ),
    (
        20,
        "Apparel and footwear: 30 days",
        {
            "match_categories": ["apparel", "footwear"],
            "window_days": 30,
            "allowed_resolutions": [Resolution.REFUND, Resolution.EXCHANGE, Resolution.STORE_CREDIT],
        },
    ),
    (
        30,
        "Up to ¥300: approved automatically",
        {
            "max_unit_price": Decimal("300.00"),
            "window_days": 7,
            "allowed_resolutions": [Resolution.REFUND, Resolution.STORE_CREDIT],
            "auto_approve": True,
        },
    ),
    (
        40,
        "Everything else: 7 days",
        {"window_days": 7, "allowed_resolutions": [Resolution.REFUND, Resolution.EXCHANGE]},
    ),
)

RS = ReturnStatus
# How each return gets to its status, step by step through the services.
RETURN_PATHS: dict[str, tuple[str, ...]] = {
    RS.SUBMITTED: (),
    RS.NEEDS_REVIEW: (),
    RS.APPROVED: ("approve",),
    RS.REJECTED: ("reject",),
    RS.ESCALATED: ("reject", "escalate"),
    RS.AWAITING_SHIPMENT: ("approve", "ship"),
    RS.IN_TRANSIT: ("approve", "ship", "track"),
    RS.RECEIVED: ("approve", "ship", "track", "receive"),
    RS.INSPECTED: ("approve", "ship", "track", "receive", "inspect"),
    RS.SETTLING: ("approve", "ship", "track", "receive", "inspect", "settle"),
    RS.COMPLETED: ("approve", "ship", "track", "receive", "inspect", "settle", "finish"),
    RS.CANCELLED: ("cancel",),
    RS.EXPIRED: ("approve", "expire"),
}
# Hours between one step and the one before it (the expiry waits for the ship-by deadline).
STEP_HOURS = {
    "approve": (0.5, 20),
    "reject": (1, 20),
    "escalate": (2, 30),
    "ship": (1, 30),
    "track": (2, 30),
    "receive": (24, 72),
    "inspect": (2, 30),
    "settle": (0.5, 8),
    "finish": (2, 24),
    "cancel": (1, 20),
}
# How long ago the last step happened, in days: recent enough that no deadline has fired on it.
RETURN_AGE_DAYS: dict[str, tuple[float, float]] = {
    RS.SUBMITTED: (0.05, 1.5),
    RS.NEEDS_REVIEW: (0.1, 1.5),
    RS.APPROVED: (0.2, 4),
    RS.REJECTED: (0.2, 2.5),
    RS.ESCALATED: (0.2, 2),
    RS.AWAITING_SHIPMENT: (0.2, 4),
    RS.IN_TRANSIT: (0.3, 3),
    RS.RECEIVED: (0.1, 2.5),
    RS.INSPECTED: (0.2, 5),
    RS.SETTLING: (0.2, 4),
    RS.COMPLETED: (3, 60),
    RS.CANCELLED: (1, 40),
    RS.EXPIRED: (1, 30),
}
# (status, resolution, reason code). The first fourteen cover every status the services reach
# without a failing payment gateway, so even a small demo has each one.
RETURN_PLAN = (
    (RS.COMPLETED, Resolution.REFUND, "wrong_size"),
    (RS.COMPLETED, Resolution.STORE_CREDIT, "defective"),
    (RS.SUBMITTED, Resolution.REFUND, "changed_mind"),
    (RS.NEEDS_REVIEW, Resolution.REFUND, "defective"),
    (RS.APPROVED, Resolution.REFUND, "not_as_described"),
    (RS.REJECTED, Resolution.REFUND, "changed_mind"),
    (RS.AWAITING_SHIPMENT, Resolution.EXCHANGE, "wrong_size"),
    (RS.IN_TRANSIT, Resolution.REFUND, "wrong_item"),
    (RS.RECEIVED, Resolution.REFUND, "changed_mind"),
    (RS.INSPECTED, Resolution.STORE_CREDIT, "wrong_size"),
    (RS.SETTLING, Resolution.REFUND, "defective"),
    (RS.CANCELLED, Resolution.REFUND, "changed_mind"),
    (RS.ESCALATED, Resolution.REFUND, "not_as_described"),
    (RS.EXPIRED, Resolution.REFUND, "changed_mind"),
    (RS.COMPLETED, Resolution.EXCHANGE, "wrong_size"),
    (RS.COMPLETED, Resolution.STORE_CREDIT, "changed_mind"),
    (RS.COMPLETED, Resolution.REFUND, "damaged_in_transit"),
    (RS.SUBMITTED, Resolution.EXCHANGE, "wrong_size"),
    (RS.IN_TRANSIT, Resolution.STORE_CREDIT, "changed_mind"),
    (RS.COMPLETED, Resolution.REFUND, "changed_mind"),
    (RS.APPROVED, Resolution.EXCHANGE, "defective"),
    (RS.RECEIVED, Resolution.EXCHANGE, "wrong_size"),
    (RS.COMPLETED, Resolution.REFUND, "wrong_item"),
    (RS.CANCELLED, Resolution.EXCHANGE, "wrong_size"),
    (RS.AWAITING_SHIPMENT, Resolution.REFUND, "changed_mind"),
    (RS.REJECTED, Resolution.REFUND, "not_as_described"),
    (RS.COMPLETED, Resolution.STORE_CREDIT, "wrong_size"),
    (RS.SETTLING, Resolution.REFUND, "changed_mind"),
    (RS.INSPECTED, Resolution.REFUND, "defective"),
    (RS.COMPLETED, Resolution.REFUND, "not_as_described"),
)
SECOND_RETURN_PLAN = (
    (RS.COMPLETED, Resolution.REFUND, "changed_mind"),
    (RS.SUBMITTED, Resolution.REFUND, "wrong_size"),
    (RS.IN_TRANSIT, Resolution.REFUND, "defective"),
    (RS.CANCELLED, Resolution.REFUND, "changed_mind"),
)
# Statuses a person still has to decide: a rule must not have approved them already.
DECIDED_BY_STAFF = (RS.SUBMITTED, RS.NEEDS_REVIEW, RS.REJECTED, RS.ESCALATED)
del RS
RETURN_NOTES = {
    "zh-hans": {
        "changed_mind": "买多了，商品未拆封，想退掉。",
        "wrong_size": "尺码偏小，穿着不合适。",
        "defective": "用了一次就坏了，照片已上传。",
        "not_as_described": "颜色和详情页差别很大。",
        "wrong_item": "收到的不是我下单的款式。",
        "damaged_in_transit": "外箱压坏，商品也有破损，照片已上传。",
    },
    "en": {
        "changed_mind": "Bought one too many; still sealed.",
        "wrong_size": "Runs small, does not fit.",
        "defective": "Broke the first time I used it, photos attached.",
        "not_as_described": "The colour is nothing like the photos.",
        "wrong_item": "This is not the model I ordered.",
        "damaged_in_transit": "The box was crushed and the item is damaged, photos attached.",
    },
}
RETURN_STAFF_LINES = {
    "zh-hans": {
        "reject": "商品吊牌已剪且有明显使用痕迹，不符合无理由退货条件。",
        "escalate": "商品到手就是这样，请主管再看一下。",
        "not_accepted": "吊牌已剪，有穿着痕迹，无法验收。",
    },
    "en": {
        "reject": "The tags were removed and the item shows wear; it cannot be returned without a reason.",
        "escalate": "It arrived like this. Please have a supervisor look again.",
        "not_accepted": "Worn and without its tags: not accepted.",
    },
}
RETURN_CARRIERS = (("SF Express", "SF"), ("ZTO Express", "ZT"), ("YTO Express", "YT"), ("JD Logistics", "JD"))


class ReturnsDemoStory:
    def __init__(self, builder: DemoBuilder):
        self.builder, self.rng, self.now = builder, builder.rng, builder.now

    def setup(self, tenants: dict[str, Tenant]) -> None:
        self.return_policy(tenants["demo"], bilingual=True)
        self.return_policy(tenants["second"], bilingual=False)

    def history(self, tenant: Tenant, orders: list[Order], size: DemoSize) -> None:
        plan = RETURN_PLAN[: max(14, size.tickets // 10)] if tenant.key == "demo" else SECOND_RETURN_PLAN
        _ReturnStory(self, tenant, orders).tell(plan)

    def summarize(self, summary: DemoSummary) -> None:
        summary.portal_order = self.portal_order(summary.merchant) or summary.portal_order
        summary.return_count = ReturnRequest.objects.filter(merchant=summary.merchant).count()

    def return_policy(self, tenant: Tenant, *, bilingual: bool) -> ReturnPolicy:
        """The return policy, its rules and the reason tree, keyed by merchant, position and code:
        a second run finds them, and leaves alone what the merchant has edited since."""
        merchant = tenant.merchant
        sold = {product.category for product, _price in tenant.products}
        policy, _created = ReturnPolicy.objects.get_or_create(
            merchant=merchant,
            defaults={
                "legal_floor_days": 7,
                "excepted_categories": [category for category in EXCEPTED_CATEGORIES if category in sold],
                "return_address": RETURN_ADDRESSES[merchant.slug],
            },
        )
        for position, name, fields in RETURN_RULES:
            ReturnRule.objects.get_or_create(policy=policy, position=position, defaults={"name": name, **fields})
        codes: dict[str, ReturnReason] = {}
        for position, (code, parent, chinese, english, responsibility) in enumerate(RETURN_REASONS, 1):
            codes[code], _created = ReturnReason.objects.get_or_create(
                merchant=merchant,
                code=code,
                defaults={
                    "parent": codes.get(parent),
                    "name": f"{chinese} {english}" if bilingual else english,
                    "responsibility": responsibility,
                    "position": position * 10,
                },
            )
        return policy

    def pickup_address(self, customer: Customer) -> str:
        if customer.language == "en":
            return f"{customer.name}, {self.rng.randrange(1, 300)} Jianguo Road, Chaoyang District, Beijing"
        return f"{customer.name} 浙江省杭州市西湖区文三路 {self.rng.randrange(1, 300)} 号"

    def portal_order(self, merchant: Merchant) -> Order | None:
        """The most recently delivered order a newcomer can look up (e-mail and phone) and return
        something from today: a line still inside its window, with units not yet asked for."""
        policy = ReturnPolicy.objects.filter(merchant=merchant).first()
        rules = active_rules(policy)
        reason = ReturnReason.objects.filter(merchant=merchant, code="changed_mind").first()
        orders = (
            Order.objects.filter(merchant=merchant, delivered_at__isnull=False)
            .exclude(contact_email="")
            .exclude(contact_phone="")
            .select_related("customer", "merchant")
            .order_by("-delivered_at", "-id")
        )
        first = returnable = None
        for order in orders[:50]:
            first = first or order
            if reason is None or order.return_requests.exists():
                continue
            for line in order.lines.select_related("product", "order__merchant"):
                terms = line_terms(
                    policy=policy, rules=rules, line=line, reason=reason, customer=order.customer, now=timezone.now()
                )
                if terms.eligible and line.product.returnable:
                    # Best of all, one with an item that comes in other sizes: an exchange shows them.
                    if line.product.variant_group:
                        return order
                    returnable = returnable or order
        return returnable or first


class _ReturnStory:
    """Returns of one merchant's history: each on a line it could really be asked for then, moved
    step by step through the services at the time each step happened."""

    def __init__(self, story: ReturnsDemoStory, tenant: Tenant, orders: list[Order]):
        self.story, self.rng, self.now = story, story.rng, story.now
        self.tenant = tenant
        self.merchant = tenant.merchant
        self.policy = ReturnPolicy.objects.get(merchant=self.merchant)
        self.rules = active_rules(self.policy)
        self.reasons = {reason.code: reason for reason in ReturnReason.objects.filter(merchant=self.merchant)}
        self.lines = list(
            OrderLine.objects.filter(order__in=[order.pk for order in orders if order.delivered_at])
            .select_related("product", "order__merchant", "order__customer")
            .order_by("order__delivered_at", "id")
        )
        self.used_orders: set[int] = set()
        self.story_status = ""  # the status the return being told ends at
        self.reused_photo: bytes | None = None
        staff = tenant.staff
        self.agent = staff.get("agent") or tenant.supervisor
        self.warehouse = staff.get("warehouse") or self.agent
        self.supervisor = tenant.supervisor

    # --- choosing a line ----------------------------------------------------------------------

    def plan_hours(self, status: str) -> list[tuple[str, float]]:
        steps = []
        for step in RETURN_PATHS[status]:
            if step == "expire":
                hours = self.policy.ship_by_days * 24 + self.rng.uniform(0.05, 2)
            else:
                hours = self.rng.uniform(*STEP_HOURS[step])
            steps.append((step, hours))
        return steps

    def terms(self, line: OrderLine, reason: ReturnReason, at: datetime):
        return line_terms(
            policy=self.policy, rules=self.rules, line=line, reason=reason, customer=line.order.customer, now=at
        )

    def fits(self, line: OrderLine, status: str, resolution: str, reason: ReturnReason, at: datetime) -> bool:
        delivered_at = line.order.delivered_at
        if line.order_id in self.used_orders or delivered_at is None or delivered_at >= at - timedelta(hours=3):
            return False
        if not line.product.returnable and reason.responsibility != Responsibility.MERCHANT:
            return False
        terms = self.terms(line, reason, at)
        return (
            terms.eligible
            and resolution in terms.allowed_resolutions
            and not (status in DECIDED_BY_STAFF and terms.auto_approve)
        )

    def pick(self, status: str, resolution: str, reason: ReturnReason, total_hours: float):
        """(line, submitted at): at the time the status's age asks for if a line fits then,
        otherwise soon after the delivery of the latest line that fits and leaves room for the story."""
        low, high = RETURN_AGE_DAYS[status]
        submitted_at = self.now - timedelta(days=self.rng.uniform(low, high), hours=total_hours)
        fitting = [line for line in self.lines if self.fits(line, status, resolution, reason, submitted_at)]
        if resolution == Resolution.EXCHANGE:
            # A customer exchanges a size or a colour: an item that comes in others, where one fits
            # (whether one fits at the drawn time depends on the hour the demo is seeded at).
            fitting = [line for line in fitting if line.product.variant_group] or fitting
        if fitting:
            return self.rng.choice(fitting), submitted_at
        latest = self.now - timedelta(hours=total_hours, minutes=10)
        for line in reversed(self.lines):
            if line.order.delivered_at is None:  # the demo's lines are all delivered
                continue
            at = line.order.delivered_at + timedelta(hours=self.rng.uniform(4, 12))
            if at < latest and self.fits(line, status, resolution, reason, at):
                return line, at
        return None, None

    # --- the story ----------------------------------------------------------------------------

    def tell(self, plan) -> None:
        for status, resolution, code in plan:
            reason = self.reasons[code]
            steps = self.plan_hours(status)
            line, at = self.pick(status, resolution, reason, sum(hours for _step, hours in steps))
            if line is None:
                continue  # a small demo may have no line left for this one
            self.used_orders.add(line.order_id)
            self.story_status = status
            return_request = self.submit(line, status, resolution, reason, at)
            for step, hours in steps:
                at += timedelta(hours=hours)
                with time_machine.travel(at, tick=False):
                    return_request = getattr(self, f"step_{step}")(return_request)

    def submit(self, line: OrderLine, status: str, resolution: str, reason: ReturnReason, at: datetime):
        order, customer = line.order, line.order.customer
        language = "en" if customer.language == "en" else "zh-hans"
        files = []
        if self.terms(line, reason, at).photos_required:
            if status == ReturnStatus.NEEDS_REVIEW and self.reused_photo:
                content = self.reused_photo  # the same picture as an earlier return: the risk rule flags it
            else:
                content = _png(tuple(self.rng.randrange(256) for _channel in range(3)))
                self.reused_photo = self.reused_photo or content
            files = [SimpleUploadedFile("photo.png", content, content_type="image/png")]
        quantity = line.quantity if self.rng.random() < 0.3 else 1
        with time_machine.travel(at, tick=False):
            return return_request_create(
                order=order,
                customer=customer,
                lines=[(line, quantity)],
                reason=reason,
                resolution=resolution,
                note=RETURN_NOTES[language][reason.code],
                files=files,
                exchange_products=self.next_variant(line) if resolution == Resolution.EXCHANGE else None,
            )

    def next_variant(self, line: OrderLine) -> dict[int, Product]:
        """An exchange of an item that comes in sizes asks for the next one up (or the one before
        the largest), the way a customer swaps a size that runs small."""
        group = line.product.variant_group
        if not group:
            return {}
        run = list(
            Product.objects.filter(merchant=self.merchant, variant_group=group, is_active=True)
            .exclude(price__isnull=True)
            .order_by("variant_position", "sku")
        )
        index = next((i for i, product in enumerate(run) if product.pk == line.product_id), None)
        if index is None or len(run) < 2:
            return {}
        return {line.pk: run[index + 1] if index + 1 < len(run) else run[index - 1]}

    def language(self, return_request: ReturnRequest) -> str:
        return "en" if return_request.customer.language == "en" else "zh-hans"

    def step_approve(self, return_request):
        if return_request.status not in (ReturnStatus.SUBMITTED, ReturnStatus.NEEDS_REVIEW):
            return return_request  # a rule approved it already
        return return_request_approve(return_request=return_request, actor=self.agent)

    def step_reject(self, return_request):
        reason = RETURN_STAFF_LINES[self.language(return_request)]["reject"]
        return return_request_reject(return_request=return_request, actor=self.agent, reason=reason)

    def step_escalate(self, return_request):
        note = RETURN_STAFF_LINES[self.language(return_request)]["escalate"]
        return return_request_escalate(return_request=return_request, customer=return_request.customer, note=note)

    def step_cancel(self, return_request):
        return return_request_cancel(return_request=return_request, customer=return_request.customer)

    def step_expire(self, return_request):
        return return_request_expire(return_request=return_request)

    def step_ship(self, return_request):
        customer = return_request.customer
        if self.rng.random() < 0.25:
            start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0)
            return_shipping_choose(
                return_request=return_request,
                method=ShippingMethod.PICKUP,
                customer=customer,
                pickup_address=self.story.pickup_address(customer),
                pickup_slot_start=start,
                pickup_slot_end=start + timedelta(hours=3),
            )
            carrier, _prefix = self.rng.choice(RETURN_CARRIERS)
            reference = f"PU{self.rng.randrange(10**8, 10**9)}"
            return_pickup_book(return_request=return_request, actor=self.agent, carrier=carrier, reference=reference)
        else:
            return_shipping_choose(return_request=return_request, method=ShippingMethod.DROP_OFF, customer=customer)
        return return_request

    def step_track(self, return_request):
        carrier, prefix = self.rng.choice(RETURN_CARRIERS)
        return return_tracking_add(
            return_request=return_request,
            carrier=return_request.shipments.first().carrier or carrier,
            tracking_number=f"{prefix}{self.rng.randrange(10**11, 10**12)}",
            customer=return_request.customer,
        )

    def step_receive(self, return_request):
        return return_request_receive(return_request=return_request, actor=self.warehouse)

    def step_inspect(self, return_request):
        if self.story_status == ReturnStatus.INSPECTED:
            # The story that stops at inspection: the shop could not accept the item, which now
            # waits on the return page (and the queue's filter) to be sent back to the customer.
            results = [
                LineInspection(
                    return_line_id=line.pk,
                    accepted=0,
                    rejected=line.quantity_received,
                    grade=ItemGrade.DAMAGED,
                    disposition="",
                    notes=RETURN_STAFF_LINES[self.language(return_request)]["not_accepted"],
                )
                for line in return_request.lines.order_by("pk")
            ]
            return return_request_inspect(return_request=return_request, actor=self.warehouse, lines=results)
        grade = self.rng.choice((ItemGrade.AS_NEW, ItemGrade.AS_NEW, ItemGrade.GOOD))
        results = [
            LineInspection(
                return_line_id=line.pk,
                accepted=line.quantity_received,
                rejected=0,
                grade=grade,
                disposition=Disposition.RESTOCK if grade == ItemGrade.AS_NEW else Disposition.REFURBISH,
            )
            for line in return_request.lines.order_by("pk")
        ]
        return return_request_inspect(return_request=return_request, actor=self.warehouse, lines=results)

    def step_settle(self, return_request):
        if return_request.resolution == Resolution.EXCHANGE:
            actor = self.warehouse
        else:
            # An agent may refund up to the limit; a bigger return is the supervisor's to settle.
            value = sum((line.refund_amount for line in return_request.lines.all()), Decimal("0"))
            over = value + return_request.order.shipping_amount > Decimal(settings.REFUND_AGENT_LIMIT)
            actor = self.supervisor if over else self.agent
        return return_request_settle(return_request=return_request, actor=actor)

    def step_finish(self, return_request):
        if return_request.resolution == Resolution.EXCHANGE:
            if return_request.exchange_difference_unpaid:
                reference = f"PAY{self.rng.randrange(10**9, 10**10)}"
                exchange_difference_confirm_paid(return_request=return_request, actor=self.agent, reference=reference)
            carrier, prefix = self.rng.choice(RETURN_CARRIERS)
            tracking = f"{prefix}{self.rng.randrange(10**11, 10**12)}"
            exchange_ship(
                return_request=return_request, actor=self.warehouse, carrier=carrier, tracking_number=tracking
            )
        for refund in return_request.refunds.filter(execution__isnull=False).select_related("execution"):
            if refund.execution.state != ExecutionState.SUCCEEDED:
                reference = f"RF{self.rng.randrange(10**9, 10**10)}"
                refund_confirm_manual(execution=refund.execution, actor=self.agent, reference=reference)
        return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def _png(color: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()
