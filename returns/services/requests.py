"""A return request from submission to a decision: create, the review a flagged request waits
for, approve, reject, the customer's revision or escalation after a rejection, cancel, and what
the deadlines decide on their own (approve by default, expire, make a rejection final).

Each locks what it changes, checks the transition table and the invariants, writes, appends the
ticket's event and moves the ticket, in one transaction.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales import bulk
from aftersales.compiled import CompiledRead
from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, Membership, Order, OrderLine, Product, User
from returns import timers
from returns.ledger import (
    unit_refund,
)
from returns.locks import (
    order_lines_lock,
    return_lines_lock,
    return_request_lock,
)
from returns.models import (
    SETTLE_ON_APPROVAL,
    Resolution,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from returns.policy import line_terms
from returns.roles import (
    SUPERVISOR_ROLES,
    require_decider,
    require_party,
    require_staff,
    require_supervisor,
)
from returns.selectors import return_policy_in_force
from returns.services._settling import exchange_surplus_grant
from returns.services._transitions import return_move
from returns.services.rules import policy_for, risk_review_reasons
from returns.services.webhooks import return_status_changed
from returns.timeline import RETURN_SUBJECTS, ReturnVerb
from returns.variants import exchange_choice_fields, exchange_choices_check, list_text
from tickets.models import TicketChannel, TicketKind, TicketStatus
from tickets.notify import notify_customer, notify_staff
from tickets.services import ticket_create, ticket_customer_message, ticket_follow_workflow
from tickets.system_texts import system_text_source
from tickets.timeline import event_append

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from returns.selectors import OrderReturnTerms


KIND_BY_RESOLUTION: dict[str, str] = {
    Resolution.EXCHANGE: TicketKind.EXCHANGE,
    Resolution.REFUND_ONLY: TicketKind.REFUND_ONLY,
}
# The case's title says what kind of request it is, in the language it was sent in.
SUBJECT_BY_KIND: dict[str, "StrPromise"] = {
    TicketKind.RETURN: gettext_lazy("Return: %(items)s"),
    TicketKind.EXCHANGE: gettext_lazy("Exchange: %(items)s"),
    TicketKind.REFUND_ONLY: gettext_lazy("Refund only: %(items)s"),
}


# The return a submission key already made (a double click): asked at every submission.
_MADE_WITH_KEY = CompiledRead(
    # At most one row: a non-empty key is unique per merchant (returnrequest_submission_key_unique).
    lambda *, shape, merchant_id, submission_key: ReturnRequest.objects.filter(
        merchant_id=merchant_id, submission_key=submission_key
    ).only("pk"),
    params={"merchant_id": int, "submission_key": str},
    prepared=True,
)


def _route_submitted(
    return_request: ReturnRequest, policy: ReturnPolicy | None = None, *, new_ticket: bool = False
) -> ReturnRequest:
    """A (locked) request has just been submitted or resubmitted: flag it for a person, approve it
    by policy, or start the merchant's clock to answer. ``new_ticket``: its case was opened in
    this transaction, so it has no clock to restart."""
    policy = policy or policy_for(return_request.merchant_id)
    reasons = risk_review_reasons(return_request, policy=policy)
    if reasons:
        return_move(return_request, ReturnStatus.NEEDS_REVIEW)
        return_request.review_reasons = reasons
        return_request.save(update_fields=["status", "review_reasons", "updated_at"])
        # Internal: the customer is not told what made the request stand out.
        event_append(return_request.ticket, ReturnVerb.FLAGGED, data={"reasons": reasons})
    terms = return_request.terms.values()
    if not reasons and terms and all(term.get("auto_approve") for term in terms):
        return return_request_approve(return_request=return_request, actor=None, note=_("Approved by policy."))
    # A flagged request is on the merchant's clock too: the marketplace rule does not wait.
    timers.start_merchant_response(return_request, policy, at=timezone.now(), new_ticket=new_ticket)
    return return_request


def return_request_create(
    *,
    order: Order,
    customer: Customer,
    lines: Sequence[tuple[OrderLine, int]],
    reason: ReturnReason,
    resolution: str,
    note: str = "",
    files: Sequence["UploadedFile[bytes]"] = (),
    channel: str = TicketChannel.PORTAL,
    created_by: User | None = None,
    exchange_products: Mapping[int, Product] | None = None,
    order_terms: "OrderReturnTerms | None" = None,
    submission_key: str = "",
    legal_remedy: bool = False,
) -> ReturnRequest:
    """Open a return for units of an order's lines, on the terms that apply now.

    ``legal_remedy``: the return settles a remedy the law or the warranty owes whatever the
    return policy says (repairs: a unit that cannot be repaired, or 三包's exchange or return after
    failed repairs), so the policy's window, resolutions and photo rules do not refuse it; the
    line's counters still bound it.

    The lines are locked first, in id order, so that two requests for the last unit of a line
    get one success and one clear refusal; the line's ``quantity_requested`` counter (bounded by a
    CHECK) is the record of what is already asked for.

    ``exchange_products`` (an exchange only): by order line id, the variant the customer wants
    instead (another size or colour of the same item); a line not named gets the same item again.
    The variant's price and the difference per unit are recorded on the line, and what the
    customer owes on top on the return: the replacement ships once that is paid.

    ``order_terms``: the merchant's policy and rules as the caller's form has just read them for
    this order (``returns.selectors.order_return_terms``), to spare reading them again. The
    policy is not locked either way; the lines are, and are read here.

    ``submission_key``: the key of the form that sent it. The same key again (a double click, a
    form sent twice) gives back the return it made, unchanged: checked once the lines are locked,
    so a repeat that raced the first waits for it and then finds it.
    """
    if resolution not in Resolution.values:
        raise InvalidInput(
            _("Pick how you want this resolved."), code="invalid_resolution", extra={"field": "resolution"}
        )
    exchange_products = dict(exchange_products or {})
    if exchange_products and resolution != Resolution.EXCHANGE:
        raise InvalidInput(
            _("Another size or colour is only sent for an exchange."),
            code="exchange_variant_not_exchange",
            extra={"field": "exchange_products"},
        )
    if reason.merchant_id != order.merchant_id or not reason.is_active:
        raise InvalidInput(_("Pick a reason."), code="invalid_reason", extra={"field": "reason"})
    wanted: dict[int, int] = {}
    for line, quantity in lines:
        if line.order_id != order.pk:
            raise InvalidInput(_("That item is not on this order."), code="line_not_on_order", extra={"field": "lines"})
        if quantity < 1:
            raise InvalidInput(_("Pick at least one unit."), code="invalid_quantity", extra={"field": "lines"})
        wanted[line.pk] = wanted.get(line.pk, 0) + quantity
    if not wanted:
        raise InvalidInput(_("Pick the items to return."), code="no_lines", extra={"field": "lines"})
    if created_by is not None:
        require_staff(created_by, order.merchant_id)
    now = timezone.now()
    # The products the caller's lines carry (the portal read them with the order a moment ago):
    # a product's name and SKU are not what the lock protects, so the lock reads them only for
    # lines that come without theirs.
    products = {line.pk: line.product for line, _quantity in lines if OrderLine.product.is_cached(line)}
    with transaction.atomic():
        locked = order_lines_lock(wanted, order=order, with_product=len(products) < len(wanted))
        for line in locked:
            line.order = order
            if line.pk in products and not OrderLine.product.is_cached(line):
                line.product = products[line.pk]
        if submission_key:
            # Its id first: a repeat is rare, and the id's statement is compiled once a process.
            made = _MADE_WITH_KEY.first(shape=None, merchant_id=order.merchant_id, submission_key=submission_key)
            if made is not None:
                return ReturnRequest.objects.get(pk=made.pk)
        if order_terms is not None and order_terms.order.pk == order.pk:
            policy, rules = order_terms.policy, order_terms.rules
        else:
            policy, rules = return_policy_in_force(merchant_id=order.merchant_id)
        terms = {}
        for line in locked:
            line_term = line_terms(policy=policy, rules=rules, line=line, reason=reason, customer=customer, now=now)
            if not line_term.eligible and not (legal_remedy and line_term.returnable_quantity > 0):
                raise InvalidInput(
                    _("%(item)s: %(why)s") % {"item": line.name, "why": line_term.refusal},
                    code="line_not_returnable",
                    extra={"line": line.pk},
                )
            if wanted[line.pk] > line_term.returnable_quantity:
                raise InvalidInput(
                    _("%(item)s: at most %(count)s more can be returned.")
                    % {"item": line.name, "count": line_term.returnable_quantity},
                    code="quantity_exceeds_returnable",
                    extra={"line": line.pk, "returnable": line_term.returnable_quantity},
                )
            if resolution not in line_term.allowed_resolutions and not legal_remedy:
                raise InvalidInput(
                    _("%(item)s cannot be resolved that way.") % {"item": line.name},
                    code="resolution_not_allowed",
                    extra={"line": line.pk, "allowed": line_term.allowed_resolutions},
                )
            if line_term.photos_required and not files and not legal_remedy:
                raise InvalidInput(
                    _("Add photos of the item; this return needs them."),
                    code="photos_required",
                    extra={"field": "files"},
                )
            terms[line.pk] = line_term
        wishes = exchange_choices_check(order, locked, exchange_products) if exchange_products else {}
        items = list_text(f"{line.name} × {wanted[line.pk]}" for line in locked)
        kind = KIND_BY_RESOLUTION.get(resolution, TicketKind.RETURN)
        # The case's events and messages are written together when the block ends: one insert
        # each for the timeline and the outbox, rather than one per event.
        with bulk.bulk_inserts():
            ticket = ticket_create(
                merchant=order.merchant,
                kind=kind,
                subject=(SUBJECT_BY_KIND[kind] % {"items": items})[:150],
                system_subject=system_text_source(RETURN_SUBJECTS[kind], items=items),
                body=note.strip() or reason.name,
                customer=customer,
                channel=channel,
                order=order,
                order_lines=locked,
                created_by=created_by,
                files=files,
            )
            return_request = ReturnRequest.objects.create(
                merchant_id=order.merchant_id,
                ticket=ticket,
                order=order,
                customer=customer,
                resolution=resolution,
                reason=reason,
                reason_note=note.strip(),
                terms={str(pk): term.snapshot() for pk, term in terms.items()},
                submitted_at=now,
                submission_key=submission_key,
                exchange_difference_due=sum(
                    (
                        wish.difference_per_unit * wanted[pk]
                        for pk, wish in wishes.items()
                        if wish.difference_per_unit > 0
                    ),
                    Decimal("0.00"),
                ),
            )
            return_status_changed(return_request, previous="")
            ReturnLine.objects.bulk_create(
                ReturnLine(
                    return_request=return_request,
                    order_line=line,
                    quantity=wanted[line.pk],
                    unit_refund_amount=unit_refund(line, terms[line.pk].restocking_fee_percent),
                    window_ends_at=terms[line.pk].window_ends_at or now,
                    **exchange_choice_fields(wishes.get(line.pk)),
                )
                for line in locked
            )
            # Every line's counter in one statement; the CHECK holds each of them. The same count
            # on every line (one unit each, the usual case) needs no CASE to say which gets what.
            counts = set(wanted.values())
            OrderLine.objects.filter(pk__in=wanted).update(
                quantity_requested=F("quantity_requested")
                + (
                    Value(counts.pop())
                    if len(counts) == 1
                    else Case(*(When(pk=pk, then=Value(count)) for pk, count in wanted.items()), default=Value(0))
                )
            )
            event_append(
                ticket,
                ReturnVerb.SUBMITTED,
                actor_user=created_by,
                actor_customer=None if created_by else customer,
                data={
                    "resolution": resolution,
                    "reason": reason.code,
                    "lines": {str(k): v for k, v in wanted.items()},
                    **(
                        {
                            "exchange": {
                                str(pk): {"sku": wish.product.sku, "difference_per_unit": str(wish.difference_per_unit)}
                                for pk, wish in wishes.items()
                            },
                            "difference_due": str(return_request.exchange_difference_due),
                        }
                        if wishes
                        else {}
                    ),
                },
                public=True,
            )
            return_request = _route_submitted(
                return_request, policy or ReturnPolicy(merchant_id=order.merchant_id), new_ticket=True
            )
    return return_request


def return_request_approve(*, return_request: ReturnRequest, actor: User | None, note: str = "") -> ReturnRequest:
    """Accept the request. ``actor`` None is the system: a policy rule or an expired deadline.

    An escalated request is a supervisor's to decide. When the item comes back, the customer's
    ship-by clock starts and the move is theirs; otherwise staff settle it next.
    """
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        if actor is not None:
            require_decider(actor, return_request.merchant_id)
        if return_request.status == ReturnStatus.ESCALATED:
            require_supervisor(actor, return_request.merchant_id)
        return_move(return_request, ReturnStatus.APPROVED)
        now = timezone.now()
        return_request.decided_at = now
        return_request.save(update_fields=["status", "decided_at", "updated_at"])
        ticket = return_request.ticket
        timers.meet(ticket, timers.MERCHANT_RESPONSE, at=now)
        data = {"note": note} if note else {}
        ship_by_local = ""
        if return_request.resolution in SETTLE_ON_APPROVAL:
            status = TicketStatus.OPEN
        else:
            ship_by = timers.start_customer_ship(return_request, policy_for(return_request.merchant_id), at=now)
            data["ship_by"] = ship_by.due_at.isoformat()
            ship_by_local = timers.local_time(ticket, ship_by.due_at)
            status = TicketStatus.WAITING_CUSTOMER
        event_append(ticket, ReturnVerb.APPROVED, actor_user=actor, data=data, public=True)
        ticket_follow_workflow(ticket=ticket, status=status, actor_user=actor)
        notify_customer(ticket, "return_approved", {"ship_by": ship_by_local, "note": note if actor else ""})
    return return_request


def return_request_reject(*, return_request: ReturnRequest, actor: User, reason: str) -> ReturnRequest:
    """Refuse the request. The customer may then revise or ask for escalation until the revise
    deadline; a supervisor's refusal of an escalated request is final."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Tell the customer why."), code="reason_required", extra={"field": "reason"})
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_decider(actor, return_request.merchant_id)
        final = return_request.status == ReturnStatus.ESCALATED
        if final:
            require_supervisor(actor, return_request.merchant_id)
        return_move(return_request, ReturnStatus.REJECTED)
        now = timezone.now()
        return_request.decided_at = now
        return_request.rejection_reason = reason
        return_request.save(update_fields=["status", "decided_at", "rejection_reason", "updated_at"])
        ticket = return_request.ticket
        timers.meet(ticket, timers.MERCHANT_RESPONSE, at=now)
        data = {"reason": reason, "final": final}
        revise_by_local = ""
        if not final:
            revise_by = timers.start_revise(return_request, policy_for(return_request.merchant_id), at=now)
            data["revise_by"] = revise_by.due_at.isoformat()
            revise_by_local = timers.local_time(ticket, revise_by.due_at)
        event_append(ticket, ReturnVerb.REJECTED, actor_user=actor, data=data, public=True)
        # Not final: the customer may revise or ask for escalation, their move.
        status = TicketStatus.RESOLVED if final else TicketStatus.WAITING_CUSTOMER
        ticket_follow_workflow(ticket=ticket, status=status, actor_user=actor)
        notify_customer(ticket, "return_rejected", {"reason": reason, "final": final, "revise_by": revise_by_local})
    return return_request


def return_request_cancel(
    *, return_request: ReturnRequest, customer: Customer | None = None, actor: User | None = None
) -> ReturnRequest:
    """The customer (or staff for them) withdraws the request; its units become returnable again."""
    if (customer is None) == (actor is None):
        raise ValueError("give either the customer or the staff actor")
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        if customer is not None and customer.pk != return_request.customer_id:
            raise PermissionRefused(_("This request belongs to another customer."))
        if actor is not None:
            require_staff(actor, return_request.merchant_id)
        if return_request.exchange_difference_paid_at is not None:
            # Cancelling would keep the customer's money with no way back: the shop settles it.
            raise TransitionNotAllowed(
                _(
                    "The price difference of this exchange is paid; the shop settles the return "
                    "instead of cancelling it."
                ),
                code="difference_paid",
            )
        return_move(return_request, ReturnStatus.CANCELLED)
        return_request.save(update_fields=["status", "updated_at"])
        lines = list(return_request.lines.select_related("order_line").order_by("order_line_id"))
        order_lines_lock(line.order_line_id for line in lines)
        for line in lines:
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_requested=F("quantity_requested") - line.quantity
            )
        timers.cancel_all(return_request.ticket)
        event_append(
            return_request.ticket, ReturnVerb.CANCELLED, actor_user=actor, actor_customer=customer, public=True
        )
        ticket_follow_workflow(
            ticket=return_request.ticket, status=TicketStatus.CANCELLED, actor_user=actor, actor_customer=customer
        )
        notify_customer(return_request.ticket, "return_cancelled")
    return return_request


def _require_revise_window(return_request: ReturnRequest) -> None:
    if return_request.escalated_at is not None:
        raise TransitionNotAllowed(
            _("A supervisor has already decided this return; the decision is final."), code="decision_final"
        )
    if not timers.is_open(return_request.ticket, timers.REVISE):
        raise TransitionNotAllowed(_("The time to revise this return has passed."), code="revise_window_closed")


def return_request_revise(
    *,
    return_request: ReturnRequest,
    customer: Customer,
    note: str,
    files: Sequence["UploadedFile[bytes]"] = (),
    resolution: str | None = None,
) -> ReturnRequest:
    """After a rejection and before the revise deadline, the customer answers (a message, more
    photos, perhaps another resolution the terms allow) and the request is submitted again."""
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_party(return_request, customer=customer, actor=None)
        if return_request.status == ReturnStatus.REJECTED:
            _require_revise_window(return_request)
        return_move(return_request, ReturnStatus.SUBMITTED)
        changed = ["status", "decided_at", "rejection_reason", "updated_at"]
        if resolution is not None and resolution != return_request.resolution:
            allowed = [set(term.get("allowed_resolutions", [])) for term in return_request.terms.values()]
            if resolution not in Resolution.values or not all(resolution in terms for terms in allowed):
                raise InvalidInput(
                    _("This return cannot be resolved that way."),
                    code="resolution_not_allowed",
                    extra={"field": "resolution"},
                )
            return_request.resolution = resolution
            changed.append("resolution")
        ticket = return_request.ticket
        # The message (and its photos) first: the risk rules read the photos.
        ticket_customer_message(ticket=ticket, customer=customer, body=note, files=files)
        now = timezone.now()
        return_request.decided_at = None
        return_request.rejection_reason = ""
        return_request.save(update_fields=changed)
        timers.meet(ticket, timers.REVISE, at=now)
        event_append(
            ticket,
            ReturnVerb.REVISED,
            actor_customer=customer,
            data={"resolution": return_request.resolution},
            public=True,
        )
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_customer=customer)
        return _route_submitted(return_request)


def return_request_escalate(*, return_request: ReturnRequest, customer: Customer, note: str) -> ReturnRequest:
    """After a rejection and before the revise deadline, the customer asks a supervisor to decide.
    Once: the supervisor's decision is final."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Tell us why the decision is wrong."), code="note_required", extra={"field": "note"})
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_party(return_request, customer=customer, actor=None)
        if return_request.status == ReturnStatus.REJECTED:
            _require_revise_window(return_request)
        return_move(return_request, ReturnStatus.ESCALATED)
        now = timezone.now()
        return_request.escalated_at = now
        return_request.save(update_fields=["status", "escalated_at", "updated_at"])
        ticket = return_request.ticket
        timers.meet(ticket, timers.REVISE, at=now)
        event_append(ticket, ReturnVerb.ESCALATED, actor_customer=customer, data={"note": note}, public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_customer=customer)
        for membership in Membership.objects.filter(
            merchant_id=return_request.merchant_id, is_active=True, role__in=SUPERVISOR_ROLES
        ).select_related("user"):
            notify_staff(ticket, membership.user, "return_escalated", {"note": note})
    return return_request


def return_request_expire(*, return_request: ReturnRequest) -> ReturnRequest:
    """The ship-by deadline passed with no parcel: the return expires and its units are free again."""
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        return_move(return_request, ReturnStatus.EXPIRED)
        return_request.save(update_fields=["status", "updated_at"])
        # A dearer exchange paid for and never sent back: no replacement will go out, so the
        # difference goes back in full. Before the lines are locked below, so that the grant
        # takes its locks in the ledger's order (the order, then its lines).
        exchange_surplus_grant(return_request)
        for line in return_lines_lock(return_request):
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_requested=F("quantity_requested") - line.quantity
            )
        # The ship-by deadline firing this is the only return timer open now; the sweep marks it.
        ticket = return_request.ticket
        event_append(ticket, ReturnVerb.EXPIRED, public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.CANCELLED)
        notify_customer(ticket, "return_expired")
    return return_request


def return_request_rejection_final(*, return_request: ReturnRequest) -> ReturnRequest:
    """The revise deadline passed with no revision nor escalation: the rejection stands."""
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        if return_request.status != ReturnStatus.REJECTED:
            raise TransitionNotAllowed(_("Only a rejected return can become final."), code="not_rejected")
        ticket = return_request.ticket
        event_append(ticket, ReturnVerb.REJECTION_FINAL, public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.RESOLVED)
    return return_request
