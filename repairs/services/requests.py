"""A repair from the customer's request to the warranty decision: create (with the repeat-visit
guarantee), triage with reasons per coverage and the 三包 floor, reject, cancel."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, Membership, OrderLine, Product, User
from repairs import timers
from repairs.locks import repair_order_lock
from repairs.models import (
    FINAL_STATUSES,
    Exclusion,
    PartReservation,
    QuoteStatus,
    Remedy,
    RepairMode,
    RepairOrder,
    RepairQuote,
    RepairStatus,
    ReservationState,
    ServiceCentre,
    WarrantyRegistration,
)
from repairs.roles import require_decider, require_party, require_staff
from repairs.sanbao import SanbaoFloor
from repairs.selectors.eligibility import (
    auto_triage_holds_of,
    earlier_repair_within_window,
    repair_policy_for,
    unit_eligibility,
)
from repairs.services._transitions import repair_move
from repairs.services.dispatch import visit_book
from repairs.services.parts import reservations_release
from repairs.services.webhooks import repair_status_changed
from repairs.timeline import REPAIR_SUBJECT, RepairVerb
from repairs.warranty import AUTO_TRIAGE_RULE
from tickets.models import TicketChannel, TicketKind
from tickets.notify import notify_customer
from tickets.services import ticket_create
from tickets.system_texts import system_text_source
from tickets.timeline import event_append

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_DESCRIPTION = 4000


def repair_request_create(
    *,
    customer: Customer,
    product: Product,
    mode: str,
    fault_description: str,
    order_line: OrderLine | None = None,
    registration: WarrantyRegistration | None = None,
    serial_number: str = "",
    remedy_wanted: str = Remedy.REPAIR,
    service_centre: ServiceCentre | None = None,
    address: str = "",
    district: str = "",
    postal_code: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    files: Sequence["UploadedFile[bytes]"] = (),
    channel: str = TicketChannel.PORTAL,
    created_by: User | None = None,
    submission_key: str = "",
    window_start: datetime | None = None,
) -> RepairOrder:
    """Open a repair for a unit the customer can prove is theirs (an order line, or a registration).

    The eligibility and the 三包 floor at this moment are snapshotted for triage. The same serial
    back within the merchant's revisit window, after a repair handed back, opens as a repeat: free
    of charge and flagged on both repairs.

    With the merchant's automatic triage on (``RepairPolicy.auto_triage``), a request the warranty
    plainly covers is triaged by the system in the same transaction (covered work that does not
    come on site moves on to waiting for the device); anything else stays requested, with the
    reasons on an internal event. ``window_start`` (on-site): the visit window the customer chose
    in the same submission, booked here once the system triaged the request. A window taken
    meanwhile is not booked (its savepoint rolls back): the repair stays triaged, its status says
    so to the caller, and the customer books another time. The customer is told once.
    """
    merchant_id = customer.merchant_id
    description = (fault_description or "").strip()
    if not description:
        raise InvalidInput(_("Describe the fault."), code="description_required", extra={"field": "fault_description"})
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(_("The description is too long."), code="description_too_long")
    if mode not in RepairMode.values:
        raise InvalidInput(_("Pick how the repair is done."), code="invalid_mode", extra={"field": "mode"})
    if remedy_wanted not in Remedy.values:
        raise InvalidInput(_("Pick what you ask for."), code="invalid_remedy", extra={"field": "remedy_wanted"})
    if product.merchant_id != merchant_id:
        raise InvalidInput(_("Unknown product."), code="unknown_product")
    if order_line is not None and (
        order_line.merchant_id != merchant_id or order_line.order.customer_id != customer.pk
    ):
        raise PermissionRefused(_("That item is not on one of your orders."), code="line_not_yours")
    if order_line is not None and order_line.product_id != product.pk:
        raise InvalidInput(_("That item is not this product."), code="line_product_mismatch")
    if registration is not None:
        if registration.merchant_id != merchant_id or registration.customer_id not in (None, customer.pk):
            raise PermissionRefused(
                _("That serial number is registered to someone else."), code="registration_not_yours"
            )
        serial_number = registration.serial_number
        product = registration.product
        order_line = order_line or registration.order_line
    if order_line is None and registration is None:
        raise InvalidInput(
            _("Pick the item from an order or a registered serial number."),
            code="unit_required",
            extra={"field": "unit"},
        )
    serial_number = (serial_number or "").strip()
    if (
        order_line is not None
        and serial_number
        and order_line.serial_numbers
        and serial_number not in order_line.serial_numbers
    ):
        raise InvalidInput(_("That serial number is not on this order line."), code="serial_not_on_line")
    if mode == RepairMode.SERVICE_CENTRE:
        if service_centre is None or service_centre.merchant_id != merchant_id or not service_centre.is_active:
            raise InvalidInput(_("Pick a service centre."), code="centre_required", extra={"field": "service_centre"})
    else:
        service_centre = None
    if mode == RepairMode.ON_SITE and not (address or "").strip():
        raise InvalidInput(_("Give the address of the visit."), code="address_required", extra={"field": "address"})
    if created_by is not None:
        require_staff(created_by, merchant_id)
    now = timezone.now()
    policy = repair_policy_for(merchant_id)
    with transaction.atomic():
        if submission_key:
            made = RepairOrder.objects.filter(merchant_id=merchant_id, submission_key=submission_key).first()
            if made is not None:
                return made
        earlier = earlier_repair_within_window(merchant_id, serial_number, policy.revisit_window_days, now)
        answer = unit_eligibility(
            product=product,
            registration=registration,
            order_line=order_line,
            at=now,
            policy=policy,
            serial_number=serial_number,
        )
        holds = (
            auto_triage_holds_of(
                merchant_id=merchant_id,
                answer=answer,
                remedy=remedy_wanted,
                registration=registration,
                serial_number=serial_number,
                free_as_repeat=earlier is not None,
            )
            if policy.auto_triage
            else []
        )
        ticket = ticket_create(
            merchant=customer.merchant,
            kind=TicketKind.REPAIR,
            subject=(_("Repair: %(product)s") % {"product": product.name})[:150],
            system_subject=system_text_source(REPAIR_SUBJECT, product=product.name),
            body=description,
            customer=customer,
            channel=channel,
            order=order_line.order if order_line else None,
            order_lines=[order_line] if order_line else [],
            created_by=created_by,
            files=files,
            # Triaged by the system: the triage's (or the visit's) message is the one the customer gets.
            acknowledge=not (policy.auto_triage and not holds),
        )
        repair_order = RepairOrder.objects.create(
            merchant_id=merchant_id,
            ticket=ticket,
            customer=customer,
            order_line=order_line,
            registration=registration,
            product=product,
            serial_number=serial_number,
            mode=mode,
            service_centre=service_centre,
            fault_description=description,
            remedy_wanted=remedy_wanted,
            address=(address or "").strip(),
            district=(district or "").strip(),
            postal_code=(postal_code or "").strip(),
            latitude=latitude,
            longitude=longitude,
            contact_name=(contact_name or customer.name).strip(),
            contact_phone=(contact_phone or customer.phone).strip(),
            requested_at=now,
            submission_key=submission_key,
            eligibility=answer.snapshot(),
            legal_floor=answer.floor.snapshot(),
            repeat_of=earlier,
        )
        repair_status_changed(repair_order, previous="")
        event_append(
            ticket,
            RepairVerb.REQUESTED,
            actor_user=created_by,
            actor_customer=None if created_by else customer,
            data={"mode": mode, "serial_number": serial_number, "remedy": remedy_wanted},
            public=True,
        )
        if earlier is not None:
            earlier.has_repeat = True
            earlier.save(update_fields=["has_repeat", "updated_at"])
            event_append(ticket, RepairVerb.REPEAT_FLAGGED, data={"repeat_of": earlier.ticket.number}, public=True)
            event_append(earlier.ticket, RepairVerb.REPEAT_FLAGGED, data={"repeat": ticket.number})
        if not policy.auto_triage or holds:
            if holds:
                # Internal: staff see why the system left it to them.
                event_append(ticket, RepairVerb.AUTO_TRIAGE_HELD, data={"rule": AUTO_TRIAGE_RULE, "reasons": holds})
            notify_customer(ticket, "repair_requested", {"product_name": product.name})
            return repair_order
        booking = window_start is not None and mode == RepairMode.ON_SITE
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        outcome = _triage_locked(repair_order, actor=None, membership=None, automatic=True, notify=not booking)
        if booking and window_start is not None:
            try:
                with transaction.atomic():
                    visit_book(
                        repair=repair_order,
                        window_start=window_start,
                        actor_user=created_by,
                        actor_customer=None if created_by else customer,
                    )
            except ApplicationError:
                # The window went to someone else (or is no longer bookable): the savepoint undid
                # the booking; the triage stands and is the one message.
                _triage_notify(repair_order, outcome)
            repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
    return repair_order


def _check_floor_allows_charge(floor: SanbaoFloor, exclusions: Sequence[str]) -> None:
    if floor.free_repair and not exclusions:
        raise TransitionNotAllowed(
            _("The 三包 rules make this repair free: it cannot be charged without an exclusion that applies."),
            code="legal_floor_free_repair",
        )


def repair_triage(
    *,
    repair_order: RepairOrder,
    actor: User,
    outcome: str = "",
    exclusions: Sequence[str] = (),
    goodwill_amount: Decimal | None = None,
    note: str = "",
) -> RepairOrder:
    """Decide who pays, with reasons per coverage: in warranty, out of warranty (a quote follows),
    or goodwill within the actor's limit. ``outcome`` empty takes what the warranty answers.

    Covered work that does not come on site moves on at once to waiting for the device."""
    for code in exclusions:
        if code not in Exclusion.values:
            raise InvalidInput(_("Unknown exclusion."), code="invalid_exclusion", extra={"field": "exclusions"})
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        membership = require_decider(actor, repair_order.merchant_id)
        _triage_locked(
            repair_order,
            actor=actor,
            membership=membership,
            outcome=outcome,
            exclusions=exclusions,
            goodwill_amount=goodwill_amount,
            note=note,
        )
    return repair_order


def _triage_locked(
    repair_order: RepairOrder,
    *,
    actor: User | None,
    membership: Membership | None,
    outcome: str = "",
    exclusions: Sequence[str] = (),
    goodwill_amount: Decimal | None = None,
    note: str = "",
    automatic: bool = False,
    notify: bool = True,
) -> str:
    """The triage of a locked repair, in the caller's transaction; returns the outcome. ``actor``
    None with ``automatic`` is the system acting by the merchant's automatic-triage rule."""
    policy = repair_policy_for(repair_order.merchant_id)
    now = timezone.now()
    answer = unit_eligibility(
        product=repair_order.product,
        registration=repair_order.registration,
        order_line=repair_order.order_line,
        at=now,
        exclusions_found=tuple(exclusions),
        membership=membership,
        policy=policy,
        serial_number=repair_order.serial_number,
        exclude_repair_id=repair_order.pk,
    )
    applied_exclusions = answer.eligibility.exclusions
    free_by_repeat = repair_order.repeat_of_id is not None and not applied_exclusions
    covered = answer.in_warranty or (answer.floor.free_repair and not applied_exclusions) or free_by_repeat
    outcome = outcome or (RepairStatus.IN_WARRANTY if covered else RepairStatus.OUT_OF_WARRANTY)
    if outcome == RepairStatus.IN_WARRANTY and not covered:
        raise InvalidInput(
            _("The warranty does not cover this repair: quote it or grant goodwill."), code="not_in_warranty"
        )
    if outcome == RepairStatus.OUT_OF_WARRANTY:
        if free_by_repeat:
            raise TransitionNotAllowed(_("A repeat of a recent repair is free of charge."), code="repeat_is_free")
        _check_floor_allows_charge(answer.floor, applied_exclusions)
    if outcome == RepairStatus.GOODWILL:
        amount = goodwill_amount if goodwill_amount is not None else Decimal("0")
        if amount < 0 or amount > answer.goodwill_limit:
            raise PermissionRefused(
                _("Goodwill up to %(limit)s is within your role; ask a supervisor for more.")
                % {"limit": answer.goodwill_limit},
                code="goodwill_over_limit",
                extra={"limit": str(answer.goodwill_limit)},
            )
    if outcome not in (RepairStatus.IN_WARRANTY, RepairStatus.OUT_OF_WARRANTY, RepairStatus.GOODWILL):
        raise InvalidInput(_("Pick the outcome of the triage."), code="invalid_outcome")
    repair_order.eligibility = {
        **answer.snapshot(),
        **({"goodwill_amount": str(goodwill_amount)} if outcome == RepairStatus.GOODWILL else {}),
        **({"free_as_repeat": True} if free_by_repeat else {}),
    }
    repair_order.legal_floor = answer.floor.snapshot()
    repair_order.decided_at = now
    repair_move(repair_order, outcome, actor=actor, fields=["eligibility", "legal_floor", "decided_at"])
    event_append(
        repair_order.ticket,
        RepairVerb.TRIAGED,
        actor_user=actor,
        data={
            "outcome": outcome,
            "coverages": [a.snapshot() for a in answer.eligibility.answers],
            "legal_floor": answer.floor.rule,
            **({"automatic": True, "rule": AUTO_TRIAGE_RULE} if automatic else {}),
            **({"note": note} if note else {}),
        },
        public=True,
    )
    if outcome != RepairStatus.OUT_OF_WARRANTY and repair_order.mode != RepairMode.ON_SITE:
        repair_move(repair_order, RepairStatus.AWAITING_DEVICE, actor=actor)
        event_append(repair_order.ticket, RepairVerb.AWAITING_DEVICE, actor_user=actor, public=True)
    if notify:
        _triage_notify(repair_order, outcome)
    return outcome


def _triage_notify(repair_order: RepairOrder, outcome: str) -> None:
    if repair_order.status == RepairStatus.AWAITING_DEVICE:
        notify_customer(
            repair_order.ticket,
            "repair_send_device",
            {
                "product_name": repair_order.product.name,
                "centre": repair_order.service_centre.name if repair_order.service_centre else "",
                "centre_address": repair_order.service_centre.address if repair_order.service_centre else "",
            },
        )
    else:
        notify_customer(
            repair_order.ticket,
            "repair_triaged",
            {"product_name": repair_order.product.name, "outcome": str(RepairStatus(outcome).label)},
        )


def repair_reject(*, repair_order: RepairOrder, actor: User, reason: str) -> RepairOrder:
    """Decline the request (not our product, not the customer's unit, …); the reason is told."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Tell the customer why."), code="reason_required", extra={"field": "reason"})
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_decider(actor, repair_order.merchant_id)
        repair_order.rejection_reason = reason
        repair_order.decided_at = timezone.now()
        repair_move(repair_order, RepairStatus.REJECTED, actor=actor, fields=["rejection_reason", "decided_at"])
        event_append(repair_order.ticket, RepairVerb.REJECTED, actor_user=actor, data={"reason": reason}, public=True)
        notify_customer(repair_order.ticket, "repair_rejected", {"reason": reason})
    return repair_order


def repair_cancel(
    *, repair_order: RepairOrder, customer: Customer | None = None, actor: User | None = None, reason: str = ""
) -> RepairOrder:
    """Withdraw the repair before the work starts: reserved parts go back, clocks stop."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_party(repair_order, customer=customer, actor=actor)
        if repair_order.status in FINAL_STATUSES:
            raise TransitionNotAllowed(_("This repair is already over."), code="repair_over")
        now = timezone.now()
        repair_move(repair_order, RepairStatus.CANCELLED, actor=actor, customer=customer)
        RepairQuote.objects.filter(repair_order=repair_order, status=QuoteStatus.SENT).update(
            status=QuoteStatus.WITHDRAWN, decided_at=now
        )
        reservations_release(PartReservation.objects.filter(repair_order=repair_order, state=ReservationState.RESERVED))
        timers.cancel_all(repair_order, at=now)
        event_append(
            repair_order.ticket,
            RepairVerb.CANCELLED,
            actor_user=actor,
            actor_customer=customer,
            data={"reason": reason} if reason else {},
            public=True,
        )
    return repair_order
