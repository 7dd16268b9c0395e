"""Repairs' part of the demo: each merchant's repair policy (三包 for electronics and stoves),
warranty terms with split coverage, diagnosis codes, a service centre, parts in a warehouse, and a
few repairs of delivered serialised units moved through the services, the on-site ones booked
with the technician (whose dispatch profile the setup keeps). Registered with ``aftersales.demo``
in ``RepairsConfig.ready``."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from aftersales.demo import DemoBuilder, DemoSize, DemoSummary, Tenant
from aftersales.exceptions import ApplicationError
from aftersales.models import Order, OrderLine
from repairs.models import (
    DiagnosisCode,
    LocationKind,
    Part,
    PartStock,
    Remedy,
    RepairMode,
    RepairOrder,
    RepairPolicy,
    RepairStatus,
    Responsibility,
    ServiceCentre,
    StockLocation,
    TechnicianProfile,
    WarrantyCoverage,
    WarrantyRegistration,
    WarrantyTerm,
)
from repairs.selectors.dispatch import ServiceNeed, available_slots
from repairs.services import (
    LineInput,
    repair_device_receive,
    repair_diagnose,
    repair_diagnosis_start,
    repair_qc,
    repair_quote_send,
    repair_request_create,
    repair_start,
    repair_triage,
)
from repairs.services.dispatch import BOOKABLE_STATUSES, visit_book

SANBAO_CATEGORIES = ["electronics", "cooking"]
# Each category with its coverages: coverage kind, named component, months.
TERMS = (
    ("electronics", [("parts", "", 24), ("labour", "", 12), ("travel", "", 6), ("component", "battery", 12)]),
    ("cooking", [("parts", "", 24), ("labour", "", 12), ("component", "igniter", 36)]),
    ("water", [("parts", "", 24), ("labour", "", 6)]),
)
# (code, name, category, responsibility, voids warranty)
DIAGNOSES = (
    ("PD-01", "产品缺陷 Product defect", "", Responsibility.PRODUCT_DEFECT, False),
    ("IN-01", "安装不当 Installation fault", "", Responsibility.INSTALLATION, False),
    ("UD-01", "人为损坏 User damage", "", Responsibility.CUSTOMER, True),
    ("LQ-01", "进水 Liquid damage", "electronics", Responsibility.CUSTOMER, True),
    ("NF-01", "未发现故障 No fault found", "", Responsibility.NONE, False),
    ("CD-01", "运输损坏 Courier damage", "", Responsibility.COURIER, False),
)
# The dispatch profile of each merchant's technician (a staff login of that role), by username:
# skills in the categories the demo repairs on site, the whole city, a home base in Xuhui.
TECHNICIANS = {
    "technician": {
        "phone": "+8613800138000",
        "skills": {"electronics": 2, "cooking": 2, "water": 1},
        "areas": [],
        "home_latitude": Decimal("31.188000"),
        "home_longitude": Decimal("121.437000"),
        "daily_capacity": 6,
    },
}
FAULTS = (
    "开机几秒后自动关机。Switches itself off after a few seconds.",
    "充不进电。It does not charge.",
    "按键失灵。The buttons do not respond.",
)


class RepairsDemoStory:
    def __init__(self, builder: DemoBuilder):
        self.builder, self.rng = builder, builder.rng

    def setup(self, tenants: dict[str, Tenant]) -> None:
        for tenant in tenants.values():
            merchant = tenant.merchant
            # The demo merchant lets the system triage covered requests (a request reaches a
            # technician with no one relaying it); the second keeps every triage for its staff.
            RepairPolicy.objects.get_or_create(
                merchant=merchant,
                defaults={"sanbao_categories": SANBAO_CATEGORIES, "auto_triage": tenant.key == "demo"},
            )
            for category, coverages in TERMS:
                term, created = WarrantyTerm.objects.get_or_create(
                    merchant=merchant,
                    category=category,
                    is_extended=False,
                    product=None,
                    defaults={"name": f"{category} warranty"},
                )
                if created:
                    WarrantyCoverage.objects.bulk_create(
                        WarrantyCoverage(term=term, kind=kind, component=component, months=months)
                        for kind, component, months in coverages
                    )
            for code, name, category, responsibility, voids in DIAGNOSES:
                DiagnosisCode.objects.get_or_create(
                    merchant=merchant,
                    code=code,
                    defaults={
                        "name": name,
                        "category": category,
                        "responsibility": responsibility,
                        "voids_warranty": voids,
                    },
                )
            ServiceCentre.objects.get_or_create(
                merchant=merchant,
                name="徐汇维修中心 Xuhui service centre",
                defaults={
                    "address": "上海市徐汇区漕溪北路 88 号 88 Caoxi North Road, Shanghai",
                    "district": "徐汇区",
                    "postal_code": "200030",
                    "opening_hours_note": "周一至周六 9:00–18:00 Mon–Sat",
                },
            )
            warehouse, _created = StockLocation.objects.get_or_create(
                merchant=merchant, name="Main warehouse 总仓", defaults={"kind": LocationKind.WAREHOUSE}
            )
            part, _created = Part.objects.get_or_create(
                merchant=merchant,
                part_number="BAT-18650",
                defaults={
                    "name": "Battery 18650 电池",
                    "cost": Decimal("12.00"),
                    "price": Decimal("39.00"),
                    "component": "battery",
                },
            )
            PartStock.objects.get_or_create(merchant=merchant, location=warehouse, part=part, defaults={"on_hand": 40})
            # A dispatch profile is configuration the admin keeps (no service writes it): keyed by user.
            for username, profile in TECHNICIANS.items():
                if username in tenant.staff:
                    TechnicianProfile.objects.get_or_create(
                        merchant=merchant, user=tenant.staff[username], defaults=profile
                    )

    def history(self, tenant: Tenant, orders: list[Order], size: DemoSize) -> None:
        if tenant.key != "demo":
            return
        registrations = list(
            WarrantyRegistration.objects.filter(merchant=tenant.merchant, customer__isnull=False)
            .select_related("product", "customer", "order_line__order")
            .order_by("pk")[:6]
        )
        agent, technician = tenant.staff["agent"], tenant.staff["technician"]
        codes = {code.code: code for code in DiagnosisCode.objects.filter(merchant=tenant.merchant)}
        for index, registration in enumerate(registrations):
            try:
                self._tell(index, registration, agent, technician, codes)
            except ApplicationError:
                # A unit the demo's dates make ineligible for this step: its repair stops where it is.
                continue
        self.visits(tenant)

    def visits(self, tenant: Tenant) -> None:
        """Each on-site repair waiting for a visit is booked by the agent in the first free window
        from tomorrow on (a visit today would have the planner re-plan the day as the demo is built)."""
        merchant, agent = tenant.merchant, tenant.staff["agent"]
        now = timezone.now()
        tomorrow = now.astimezone(ZoneInfo(merchant.timezone)).date() + timedelta(days=1)
        waiting = RepairOrder.objects.filter(
            merchant=merchant, mode=RepairMode.ON_SITE, status__in=BOOKABLE_STATUSES
        ).select_related("product", "merchant")
        for repair in waiting.order_by("pk"):
            slots = [
                slot
                for slot in available_slots(merchant, ServiceNeed.of_repair(repair), now=now)
                if slot.start.astimezone(ZoneInfo(merchant.timezone)).date() >= tomorrow
            ]
            if not slots:
                continue
            try:
                visit_book(repair=repair, window_start=slots[0].start, actor_user=agent)
            except ApplicationError:
                continue  # the window filled up: this repair waits for dispatch

    def _tell(self, index, registration, agent, technician, codes) -> None:
        line: OrderLine | None = registration.order_line
        repair = repair_request_create(
            customer=registration.customer,
            product=registration.product,
            registration=registration,
            order_line=line,
            mode=RepairMode.MAIL_IN if index % 2 else RepairMode.ON_SITE,
            address="上海市徐汇区天钥桥路 100 号 100 Tianyaoqiao Road, Shanghai",
            fault_description=FAULTS[index % len(FAULTS)],
            # The first asks for an exchange: the automatic triage leaves it to staff, saying why.
            remedy_wanted=Remedy.EXCHANGE if index == 0 else Remedy.REPAIR,
        )
        if index == 0:
            return  # waits for triage
        if repair.status == RepairStatus.REQUESTED:  # not covered plainly: the agent triages it
            repair_triage(repair_order=repair, actor=agent)
            repair.refresh_from_db()
        if repair.status == RepairStatus.OUT_OF_WARRANTY:
            repair_quote_send(
                repair_order=repair,
                actor=agent,
                lines=[LineInput(kind="labour", description="维修工时 Labour", unit_price=Decimal("80.00"))],
            )
            return
        if repair.mode == RepairMode.ON_SITE or index < 3:
            return  # on site: waits for a visit (dispatch); or waits for the device
        repair_device_receive(repair_order=repair, actor=technician)
        repair_diagnosis_start(repair_order=repair, actor=technician)
        repair_diagnose(repair_order=repair, actor=technician, code=codes["PD-01"])
        repair_start(repair_order=repair, actor=technician)
        repair_qc(repair_order=repair, actor=technician, passed=True)

    def summarize(self, summary: DemoSummary) -> None:
        """The summary has no field for repairs yet; the dashboard shows them."""
