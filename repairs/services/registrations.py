"""Registrations per serial: made when a serialised order line is delivered, or by the customer
with a proof-of-purchase photo (checked by staff); transfers; a unit swapped for a replacement
keeps both serials, and the replacement carries the remaining warranty over."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import Customer, Order, OrderLine, Product, User
from repairs.locks import registration_lock
from repairs.models import (
    RegistrationSource,
    RegistrationStatus,
    RegistrationTransfer,
    WarrantyRegistration,
)
from repairs.roles import require_decider, require_workshop
from tickets.attachments import checked_upload

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_SERIAL = 100


def _clean_serial(serial_number: str) -> str:
    serial = (serial_number or "").strip()
    if not serial or len(serial) > MAX_SERIAL:
        raise InvalidInput(_("Give the serial number."), code="serial_required", extra={"field": "serial_number"})
    return serial


def registrations_for_delivered_order(order: Order) -> int:
    """Register every serial of the order's serialised lines once it is delivered (called by the
    order intake inside its transaction; a serial already registered is left as it is)."""
    if order.delivered_at is None:
        return 0
    made = 0
    lines = OrderLine.objects.filter(order=order).select_related("product")
    for line in lines:
        if not line.product.serialized:
            continue
        for serial in line.serial_numbers or []:
            serial = str(serial).strip()
            if not serial:
                continue
            _registration, created = WarrantyRegistration.objects.get_or_create(
                merchant_id=order.merchant_id,
                serial_number=serial,
                defaults={
                    "product": line.product,
                    "customer_id": order.customer_id,
                    "order_line": line,
                    "source": RegistrationSource.DELIVERY,
                    "purchased_at": order.placed_at,
                    "delivered_at": order.delivered_at,
                },
            )
            made += int(created)
    return made


def registration_register(
    *,
    customer: Customer,
    product: Product,
    serial_number: str,
    purchased_at: datetime,
    proof: "UploadedFile[bytes]",
    order_line: OrderLine | None = None,
) -> WarrantyRegistration:
    """The customer registers a unit bought elsewhere (or not delivered through the shop's intake)
    with a photo of the receipt; its warranty counts once staff accept the proof."""
    serial = _clean_serial(serial_number)
    if product.merchant_id != customer.merchant_id:
        raise InvalidInput(_("Unknown product."), code="unknown_product")
    if purchased_at > timezone.now():
        raise InvalidInput(_("The purchase date is in the future."), code="purchase_in_future")
    if order_line is not None and order_line.order.customer_id != customer.pk:
        raise InvalidInput(_("That item is not on one of your orders."), code="line_not_yours")
    stored, _content_type, _sha256 = checked_upload(proof)
    try:
        with transaction.atomic():
            registration = WarrantyRegistration(
                merchant_id=customer.merchant_id,
                serial_number=serial,
                product=product,
                customer=customer,
                order_line=order_line,
                source=RegistrationSource.CUSTOMER,
                status=RegistrationStatus.PENDING_PROOF,
                purchased_at=purchased_at,
            )
            registration.proof_of_purchase.save(stored.name or "proof", stored, save=False)
            registration.save()
    except IntegrityError as exc:
        raise Conflict(
            _("This serial number is already registered. Contact us if the unit is yours."),
            code="serial_already_registered",
        ) from exc
    return registration


def registration_proof_decide(
    *, registration: WarrantyRegistration, actor: User, accepted: bool, delivered_at: datetime | None = None
) -> WarrantyRegistration:
    """Staff check the proof: accepted, the warranty counts from the delivery date (the purchase
    date when no other is known); rejected, the registration stays on record, covering nothing."""
    with transaction.atomic():
        registration = registration_lock(registration.pk)
        require_decider(actor, registration.merchant_id)
        if registration.status != RegistrationStatus.PENDING_PROOF:
            raise TransitionNotAllowed(_("This proof was already checked."), code="proof_checked")
        if accepted:
            registration.status = RegistrationStatus.ACTIVE
            registration.delivered_at = delivered_at or registration.purchased_at
        else:
            registration.status = RegistrationStatus.REJECTED
        registration.save(update_fields=["status", "delivered_at", "updated_at"])
    return registration


def registration_record_installation(
    *, registration: WarrantyRegistration, actor: User, installed_at: datetime, proof: "UploadedFile[bytes]"
) -> WarrantyRegistration:
    """The technician (or staff from the customer's proof) records when the unit was installed:
    terms counted from installation start then."""
    if installed_at > timezone.now():
        raise InvalidInput(_("The installation date is in the future."), code="installation_in_future")
    stored, _content_type, _sha256 = checked_upload(proof)
    with transaction.atomic():
        registration = registration_lock(registration.pk)
        require_workshop(actor, registration.merchant_id)
        if registration.delivered_at and installed_at < registration.delivered_at:
            raise InvalidInput(_("Installed before it was delivered?"), code="installation_before_delivery")
        registration.installed_at = installed_at
        registration.installation_proof.save(stored.name or "installation", stored, save=False)
        registration.save(update_fields=["installed_at", "installation_proof", "updated_at"])
    return registration


def registration_transfer(
    *, registration: WarrantyRegistration, actor: User, to_customer: Customer, note: str = ""
) -> RegistrationTransfer:
    with transaction.atomic():
        registration = registration_lock(registration.pk)
        require_decider(actor, registration.merchant_id)
        if to_customer.merchant_id != registration.merchant_id:
            raise InvalidInput(_("Unknown customer."), code="unknown_customer")
        if registration.status == RegistrationStatus.REPLACED:
            raise TransitionNotAllowed(_("This unit was swapped for a replacement."), code="registration_replaced")
        if registration.customer_id == to_customer.pk:
            raise InvalidInput(_("The unit is already theirs."), code="same_owner")
        transfer = RegistrationTransfer.objects.create(
            merchant_id=registration.merchant_id,
            registration=registration,
            from_customer_id=registration.customer_id,
            to_customer=to_customer,
            transferred_by=actor,
            note=note.strip(),
        )
        registration.customer = to_customer
        registration.save(update_fields=["customer", "updated_at"])
    return transfer


def registration_swap(
    *, registration: WarrantyRegistration, new_serial_number: str, actor: User | None
) -> WarrantyRegistration:
    """The faulty unit is swapped: both serials stay on record, linked, and the replacement's
    coverage counts from the faulty unit's start, so what was left of the warranty carries over."""
    serial = _clean_serial(new_serial_number)
    with transaction.atomic():
        registration = registration_lock(registration.pk)
        if actor is not None:
            require_workshop(actor, registration.merchant_id)
        if registration.status == RegistrationStatus.REPLACED:
            raise TransitionNotAllowed(_("This unit was already swapped."), code="registration_replaced")
        starts_at = registration.coverage_starts_at or registration.installed_at or registration.delivered_at
        try:
            with transaction.atomic():
                replacement = WarrantyRegistration.objects.create(
                    merchant_id=registration.merchant_id,
                    serial_number=serial,
                    product=registration.product,
                    customer_id=registration.customer_id,
                    order_line_id=registration.order_line_id,
                    source=RegistrationSource.REPLACEMENT,
                    purchased_at=registration.purchased_at,
                    delivered_at=registration.delivered_at,
                    installed_at=registration.installed_at,
                    coverage_starts_at=starts_at,
                )
        except IntegrityError as exc:
            raise Conflict(_("That serial number is already registered."), code="serial_already_registered") from exc
        registration.status = RegistrationStatus.REPLACED
        registration.replaced_by = replacement
        registration.save(update_fields=["status", "replaced_by", "updated_at"])
    return replacement
