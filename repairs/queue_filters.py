"""The repair filters of the one queue (``dashboard:queue``), plugged into the hub's registry:
service mode, repair status, technician, warranty or paid, waiting for parts. Shown once the
queue shows repairs; each is a condition on the tickets the member already sees, through their
repair order."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import Merchant
from repairs.models import QuoteStatus, RepairMode, RepairQuote, RepairStatus, TechnicianProfile, Visit
from tickets.models import TicketKind
from tickets.queue_filters import Choices, QueueFilter, register_queue_filter

NOTHING = Q(pk__in=[])
# The customer pays: no warranty from triage, or a quote sent or approved after a diagnosis.
PAID_STATUSES = (
    RepairStatus.OUT_OF_WARRANTY,
    RepairStatus.QUOTED,
    RepairStatus.QUOTE_APPROVED,
    RepairStatus.DECLINED,
    RepairStatus.EXPIRED,
)
WARRANTY, PAID = "warranty", "paid"


def _one_of(values: list[str], build):
    def condition(value: str) -> Q:
        return build(value) if value in values else NOTHING

    return condition


def _paid() -> Q:
    quoted = RepairQuote.objects.filter(status__in=(QuoteStatus.SENT, QuoteStatus.APPROVED)).values(
        "repair_order__ticket_id"
    )
    return Q(repair_order__status__in=PAID_STATUSES) | Q(pk__in=quoted)


def _who_pays(value: str) -> Q:
    if value == PAID:
        return _paid()
    if value == WARRANTY:
        return Q(repair_order__isnull=False) & ~_paid()
    return NOTHING


def _technician(value: str) -> Q:
    if not value.isdigit():
        return NOTHING
    # Any visit of the repair (booked, done or missed) with this technician; another merchant's
    # technician id matches nothing, as the member only sees their merchant's tickets.
    return Q(pk__in=Visit.objects.filter(technician_id=int(value)).values("repair__ticket_id"))


def _technician_choices(merchant: Merchant) -> Choices:
    return [
        (str(technician.pk), str(technician))
        for technician in TechnicianProfile.objects.filter(merchant=merchant).select_related("user").order_by("pk")
    ]


def register_queue_filters() -> None:
    kind = TicketKind.REPAIR
    register_queue_filter(
        QueueFilter(
            name="repair_mode",
            label=_("Service mode"),
            kind=kind,
            choices=lambda merchant: RepairMode.choices,
            condition=_one_of(RepairMode.values, lambda value: Q(repair_order__mode=value)),
        )
    )
    register_queue_filter(
        QueueFilter(
            name="repair_status",
            label=_("Repair status"),
            kind=kind,
            choices=lambda merchant: RepairStatus.choices,
            condition=_one_of(RepairStatus.values, lambda value: Q(repair_order__status=value)),
        )
    )
    register_queue_filter(
        QueueFilter(
            name="technician",
            label=_("Technician"),
            kind=kind,
            choices=_technician_choices,
            condition=_technician,
        )
    )
    register_queue_filter(
        QueueFilter(
            name="who_pays",
            label=_("Who pays"),
            kind=kind,
            choices=lambda merchant: [(WARRANTY, _("Warranty (free)")), (PAID, _("The customer (quote)"))],
            condition=_who_pays,
        )
    )
    register_queue_filter(
        QueueFilter(
            name="waiting_parts",
            label=_("Waiting for parts"),
            kind=kind,
            choices=lambda merchant: [("yes", _("Waiting for parts"))],
            condition=_one_of(["yes"], lambda value: Q(repair_order__status=RepairStatus.WAITING_PARTS)),
        )
    )
