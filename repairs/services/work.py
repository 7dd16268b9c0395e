"""The work on a device: received, diagnosed (a diagnosis can change who pays), lines added with
their coverage, waiting for parts, repaired, quality-checked, handed back, confirmed or closed by
the timer."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, User
from repairs import timers
from repairs.locks import repair_order_lock
from repairs.models import (
    DiagnosisCode,
    LineCoverage,
    LineKind,
    Part,
    PartReservation,
    Remedy,
    RepairLine,
    RepairMode,
    RepairOrder,
    RepairStatus,
    ReservationState,
)
from repairs.roles import require_party, require_workshop
from repairs.sanbao import SanbaoFloor
from repairs.selectors.eligibility import repair_policy_for, unit_eligibility
from repairs.services._transitions import repair_move
from repairs.services.parts import reservations_release
from repairs.timeline import RepairVerb
from repairs.warranty import warranty_covers
from tickets.notify import notify_customer
from tickets.timeline import event_append

MAX_TRACKING = 100


def repair_device_receive(*, repair_order: RepairOrder, actor: User) -> RepairOrder:
    """The device arrived (mail-in parcel or carried in to the centre)."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        if repair_order.mode == RepairMode.ON_SITE:
            raise TransitionNotAllowed(_("An on-site repair is worked at the customer's."), code="on_site_repair")
        repair_order.device_received_at = timezone.now()
        repair_move(repair_order, RepairStatus.DEVICE_RECEIVED, actor=actor, fields=["device_received_at"])
        event_append(repair_order.ticket, RepairVerb.DEVICE_RECEIVED, actor_user=actor, public=True)
    return repair_order


def repair_diagnosis_start(*, repair_order: RepairOrder, actor: User) -> RepairOrder:
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        repair_move(repair_order, RepairStatus.DIAGNOSING, actor=actor)
        event_append(repair_order.ticket, RepairVerb.DIAGNOSING, actor_user=actor, public=True)
    return repair_order


def repair_diagnose(*, repair_order: RepairOrder, actor: User, code: DiagnosisCode, note: str = "") -> RepairOrder:
    """Record what is wrong and who is responsible. A code that voids the warranty (user damage)
    takes the repair out of it: the work then needs a quote. The same fault found again on a serial
    repaired before counts that repair as failed, for the 三包 repeat rule."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        if repair_order.status != RepairStatus.DIAGNOSING:
            raise TransitionNotAllowed(_("Start the diagnosis first."), code="not_diagnosing")
        if code.merchant_id != repair_order.merchant_id or not code.is_active:
            raise InvalidInput(_("Pick a diagnosis."), code="invalid_diagnosis", extra={"field": "code"})
        if code.category and code.category != repair_order.product.category:
            raise InvalidInput(_("That diagnosis is for another category."), code="diagnosis_category")
        now = timezone.now()
        repair_order.diagnosis_code = code
        repair_order.diagnosis_note = note.strip()
        repair_order.diagnosed_at = now
        repair_order.diagnosed_by = actor
        fields = ["diagnosis_code", "diagnosis_note", "diagnosed_at", "diagnosed_by"]
        failed_before = []
        if repair_order.serial_number:
            failed_before = list(
                RepairOrder.objects.select_for_update(of=("self",))
                .filter(
                    merchant_id=repair_order.merchant_id,
                    serial_number=repair_order.serial_number,
                    diagnosis_code=code,
                    status__in=(RepairStatus.RETURNED, RepairStatus.CLOSED),
                    repair_failed=False,
                )
                .exclude(pk=repair_order.pk)
                .order_by("pk")
            )
            for earlier in failed_before:
                earlier.repair_failed = True
                earlier.save(update_fields=["repair_failed", "updated_at"])
        if failed_before or code.voids_warranty:
            answer = unit_eligibility(
                product=repair_order.product,
                registration=repair_order.registration,
                order_line=repair_order.order_line,
                at=repair_order.requested_at,
                serial_number=repair_order.serial_number,
                exclude_repair_id=repair_order.pk,
            )
            repair_order.legal_floor = answer.floor.snapshot()
            fields.append("legal_floor")
        if code.voids_warranty:
            repair_order.eligibility = {**repair_order.eligibility, "voided_by_diagnosis": code.code}
            fields.append("eligibility")
        repair_order.save(update_fields=[*fields, "updated_at"])
        event_append(
            repair_order.ticket,
            RepairVerb.DIAGNOSED,
            actor_user=actor,
            data={
                "code": code.code,
                "responsibility": code.responsibility,
                "voids_warranty": code.voids_warranty,
                "failed_repairs": [r.pk for r in failed_before],
                **({"note": note.strip()} if note.strip() else {}),
            },
            public=True,
        )
    return repair_order


def _warranty_covers(repair_order: RepairOrder, kind: str, part: Part | None) -> bool:
    return warranty_covers(
        repair_order.eligibility or {}, repair_order.legal_floor or {}, kind, part.component if part is not None else ""
    )


def repair_line_add(
    *,
    repair_order: RepairOrder,
    actor: User,
    kind: str,
    description: str,
    unit_price: Decimal,
    coverage: str,
    quantity: Decimal = Decimal("1"),
    unit_cost: Decimal = Decimal("0"),
    part: Part | None = None,
) -> RepairLine:
    """A line of work with who pays it. Warranty only where the coverage of that kind (or the
    part's named component) holds; goodwill within what triage granted; the customer's share only
    through a quote they approve."""
    if kind not in LineKind.values or coverage not in LineCoverage.values:
        raise InvalidInput(_("Pick the kind of line and who pays it."), code="invalid_line")
    if quantity <= 0 or unit_price < 0 or unit_cost < 0:
        raise InvalidInput(_("Quantities are positive and prices not negative."), code="invalid_line_amount")
    if not description.strip():
        raise InvalidInput(_("Describe the line."), code="line_description_required")
    if (kind == LineKind.PART) != (part is not None):
        raise InvalidInput(_("A part line names its part."), code="part_required")
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk)
        require_workshop(actor, repair_order.merchant_id)
        if part is not None and part.merchant_id != repair_order.merchant_id:
            raise InvalidInput(_("Unknown part."), code="unknown_part")
        if repair_order.status not in (
            RepairStatus.ON_SITE,
            RepairStatus.DIAGNOSING,
            RepairStatus.WAITING_PARTS,
            RepairStatus.IN_REPAIR,
            RepairStatus.QC,
        ):
            raise TransitionNotAllowed(_("Lines are added while the device is being worked on."), code="not_in_work")
        if coverage == LineCoverage.CUSTOMER:
            raise TransitionNotAllowed(
                _("What the customer pays goes on a quote they approve."), code="customer_lines_need_quote"
            )
        if coverage == LineCoverage.WARRANTY and not _warranty_covers(repair_order, kind, part):
            raise TransitionNotAllowed(
                _("The warranty does not cover this line."), code="not_covered", extra={"kind": kind}
            )
        if coverage == LineCoverage.GOODWILL:
            granted = Decimal(repair_order.eligibility.get("goodwill_amount") or "0")
            used = RepairLine.objects.filter(repair_order=repair_order, coverage=LineCoverage.GOODWILL).aggregate(
                total=Sum("unit_price")
            )["total"] or Decimal("0")
            amount = (unit_price * quantity).quantize(Decimal("0.01"))
            if used + amount > granted:
                raise PermissionRefused(
                    _("Goodwill granted on this repair: %(granted)s.") % {"granted": granted},
                    code="goodwill_exceeded",
                )
        line = RepairLine.objects.create(
            merchant_id=repair_order.merchant_id,
            repair_order=repair_order,
            kind=kind,
            part=part,
            description=description.strip(),
            quantity=quantity,
            unit_price=unit_price,
            unit_cost=unit_cost,
            coverage=coverage,
            is_repeat_free=repair_order.repeat_of_id is not None,
        )
        event_append(
            repair_order.ticket,
            RepairVerb.LINE_ADDED,
            actor_user=actor,
            data={"kind": kind, "description": line.description, "coverage": coverage, "amount": str(line.amount)},
        )
    return line


def repair_parts_wait(*, repair_order: RepairOrder, actor: User, expected_on: date | None) -> RepairOrder:
    """The parts are not in stock: the customer sees the expected date."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        repair_order.parts_expected_on = expected_on
        repair_move(repair_order, RepairStatus.WAITING_PARTS, actor=actor, fields=["parts_expected_on"])
        event_append(
            repair_order.ticket,
            RepairVerb.WAITING_PARTS,
            actor_user=actor,
            data={"expected_on": expected_on.isoformat() if expected_on else None},
            public=True,
        )
        notify_customer(
            repair_order.ticket,
            "repair_waiting_parts",
            {"expected_on": expected_on.isoformat() if expected_on else ""},
        )
    return repair_order


def _check_floor_remedy(repair_order: RepairOrder) -> None:
    floor = SanbaoFloor.from_snapshot(repair_order.legal_floor)
    wanted = repair_order.remedy_wanted
    if wanted != Remedy.REPAIR and floor.allows(wanted):
        raise TransitionNotAllowed(
            _("The customer chose %(remedy)s, which the 三包 rules give them: it cannot be repaired instead.")
            % {"remedy": Remedy(wanted).label},
            code="legal_floor_remedy",
        )


def repair_start(*, repair_order: RepairOrder, actor: User) -> RepairOrder:
    """Start the repair (after a diagnosis, once parts are in, or on a second visit)."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        _check_floor_remedy(repair_order)
        if repair_order.status == RepairStatus.DIAGNOSING and repair_order.diagnosis_code_id is None:
            raise TransitionNotAllowed(_("Record the diagnosis first."), code="diagnosis_required")
        if repair_order.status == RepairStatus.DIAGNOSING and (repair_order.eligibility or {}).get(
            "voided_by_diagnosis"
        ):
            raise TransitionNotAllowed(
                _("The diagnosis takes this repair out of warranty: send a quote."), code="quote_required"
            )
        repair_move(repair_order, RepairStatus.IN_REPAIR, actor=actor)
        event_append(repair_order.ticket, RepairVerb.IN_REPAIR, actor_user=actor, public=True)
    return repair_order


def repair_qc(*, repair_order: RepairOrder, actor: User, passed: bool, note: str = "") -> RepairOrder:
    """The repair is done and checked: passed, it goes back (on site it is already with the
    customer); failed, back to the bench."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        if repair_order.status == RepairStatus.IN_REPAIR:
            repair_move(repair_order, RepairStatus.QC, actor=actor)
        elif repair_order.status != RepairStatus.QC:
            raise TransitionNotAllowed(_("Only a repair that is done is checked."), code="not_in_repair")
        data = {"note": note.strip()} if note.strip() else {}
        if not passed:
            repair_order.qc_failures += 1
            repair_move(repair_order, RepairStatus.IN_REPAIR, actor=actor, fields=["qc_failures"])
            event_append(repair_order.ticket, RepairVerb.QC_FAILED, actor_user=actor, data=data)
            return repair_order
        event_append(repair_order.ticket, RepairVerb.QC_PASSED, actor_user=actor, data=data, public=True)
        reservations_release(PartReservation.objects.filter(repair_order=repair_order, state=ReservationState.RESERVED))
        if repair_order.mode == RepairMode.ON_SITE:
            _returned(repair_order, actor=actor)
        else:
            repair_move(repair_order, RepairStatus.READY, actor=actor)
            notify_customer(repair_order.ticket, "repair_ready", {"unrepaired": False, "fee": ""})
    return repair_order


def _returned(repair_order: RepairOrder, *, actor: User | None, fields: tuple[str, ...] = ()) -> None:
    now = timezone.now()
    repair_order.returned_at = now
    repair_move(repair_order, RepairStatus.RETURNED, actor=actor, fields=["returned_at", *fields])
    timers.start_auto_close(repair_order, repair_policy_for(repair_order.merchant_id), at=now)
    notify_customer(repair_order.ticket, "repair_returned", {"tracking": repair_order.return_tracking_number})


def repair_ship_back(*, repair_order: RepairOrder, actor: User, carrier: str, tracking_number: str) -> RepairOrder:
    tracking_number, carrier = (tracking_number or "").strip(), (carrier or "").strip()
    if not tracking_number or len(tracking_number) > MAX_TRACKING:
        raise InvalidInput(_("Give the tracking number."), code="tracking_required", extra={"field": "tracking_number"})
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        if repair_order.status != RepairStatus.READY:
            raise TransitionNotAllowed(_("Only a device ready to go back is shipped."), code="not_ready")
        repair_order.return_carrier, repair_order.return_tracking_number = carrier[:100], tracking_number
        _returned(repair_order, actor=actor, fields=("return_carrier", "return_tracking_number"))
        event_append(
            repair_order.ticket,
            RepairVerb.SHIPPED_BACK,
            actor_user=actor,
            data={"carrier": carrier, "tracking_number": tracking_number},
            public=True,
        )
    return repair_order


def repair_collected(*, repair_order: RepairOrder, actor: User) -> RepairOrder:
    """The customer collected the device at the service centre."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_workshop(actor, repair_order.merchant_id)
        if repair_order.status != RepairStatus.READY:
            raise TransitionNotAllowed(_("Only a device ready to go back is handed over."), code="not_ready")
        _returned(repair_order, actor=actor)
        event_append(repair_order.ticket, RepairVerb.COLLECTED, actor_user=actor, public=True)
    return repair_order


def repair_confirm(
    *, repair_order: RepairOrder, customer: Customer | None = None, actor: User | None = None
) -> RepairOrder:
    """The customer confirms the result: the repair closes."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_party(repair_order, customer=customer, actor=actor)
        if repair_order.status != RepairStatus.RETURNED:
            raise TransitionNotAllowed(_("Only a returned repair is confirmed."), code="not_returned")
        now = timezone.now()
        repair_order.customer_confirmed_at = repair_order.closed_at = now
        timers.meet(repair_order, timers.AUTO_CLOSE, at=now)
        repair_move(
            repair_order,
            RepairStatus.CLOSED,
            actor=actor,
            customer=customer,
            fields=["customer_confirmed_at", "closed_at"],
        )
        event_append(repair_order.ticket, RepairVerb.CONFIRMED, actor_user=actor, actor_customer=customer, public=True)
    return repair_order


def repair_auto_close(*, repair_order: RepairOrder) -> RepairOrder:
    """No answer by the auto-close time (the sweep): the repair closes as returned."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        if repair_order.status != RepairStatus.RETURNED:
            return repair_order
        repair_order.closed_at = timezone.now()
        repair_move(repair_order, RepairStatus.CLOSED, fields=["closed_at"])
        event_append(repair_order.ticket, RepairVerb.AUTO_CLOSED, public=True)
    return repair_order
