"""Registrations per serial: from the delivered order, by the customer with proof, one per serial,
transferred, and swapped with the remaining warranty carried over to the replacement."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.tests.factories import CustomerFactory
from repairs.models import RegistrationSource, RegistrationStatus, RegistrationTransfer, WarrantyRegistration
from repairs.selectors import unit_eligibility
from repairs.services import (
    registration_proof_decide,
    registration_register,
    registration_swap,
    registration_transfer,
    registrations_for_delivered_order,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_delivered_order_registers_each_serial_once_even_when_it_arrives_again(world):
    made_again = registrations_for_delivered_order(world.order)

    assert made_again == 0
    assert WarrantyRegistration.objects.filter(merchant=world.merchant).count() == 1


def test_a_customer_registers_a_serial_with_a_receipt_photo_and_its_warranty_counts_once_accepted(world, png_upload):
    customer = CustomerFactory(merchant=world.merchant)
    bought = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 6, 1, tzinfo=UTC), tick=False):
        registration = registration_register(
            customer=customer,
            product=world.product,
            serial_number=" TAP-0099 ",
            purchased_at=bought,
            proof=png_upload(),
        )
        pending = unit_eligibility(product=world.product, registration=registration, at=datetime.now(UTC))
        registration_proof_decide(registration=registration, actor=world.agent, accepted=True)
        accepted = unit_eligibility(
            product=world.product,
            registration=WarrantyRegistration.objects.get(pk=registration.pk),
            at=datetime.now(UTC),
        )

    registration.refresh_from_db()
    assert registration.serial_number == "TAP-0099"
    assert registration.source == RegistrationSource.CUSTOMER
    assert registration.status == RegistrationStatus.ACTIVE
    assert registration.proof_of_purchase.name.startswith(f"registrations/{world.merchant.pk}/")
    assert pending.eligibility.any_covered is False
    assert accepted.eligibility.covers("parts") is True


def test_a_serial_already_registered_cannot_be_registered_again(world, png_upload):
    other = CustomerFactory(merchant=world.merchant)

    with pytest.raises(Conflict) as refused:
        registration_register(
            customer=other,
            product=world.product,
            serial_number=world.registration.serial_number,
            purchased_at=datetime(2026, 3, 1, tzinfo=UTC),
            proof=png_upload(),
        )

    assert refused.value.code == "serial_already_registered"
    assert WarrantyRegistration.objects.filter(merchant=world.merchant).count() == 1


def test_a_proof_that_is_not_an_image_is_refused_and_nothing_is_registered(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("receipt.png", b"MZ not a picture", content_type="image/png")

    with pytest.raises(InvalidInput):
        registration_register(
            customer=world.customer,
            product=world.product,
            serial_number="TAP-0100",
            purchased_at=datetime(2026, 3, 1, tzinfo=UTC),
            proof=fake,
        )

    assert not WarrantyRegistration.objects.filter(serial_number="TAP-0100").exists()


def test_a_transfer_moves_the_unit_to_its_new_owner_and_keeps_the_history(world):
    buyer = CustomerFactory(merchant=world.merchant)

    registration_transfer(registration=world.registration, actor=world.agent, to_customer=buyer, note="Sold the flat")

    world.registration.refresh_from_db()
    assert world.registration.customer == buyer
    transfer = RegistrationTransfer.objects.get()
    assert (transfer.from_customer, transfer.to_customer, transfer.transferred_by) == (
        world.customer,
        buyer,
        world.agent,
    )


def test_a_swapped_unit_keeps_both_serials_and_the_replacement_carries_the_remaining_warranty(world):
    with time_machine.travel(datetime(2026, 11, 1, tzinfo=SHANGHAI), tick=False):
        replacement = registration_swap(
            registration=world.registration, new_serial_number="TAP-0777", actor=world.technician
        )

    world.registration.refresh_from_db()
    assert world.registration.status == RegistrationStatus.REPLACED
    assert world.registration.replaced_by == replacement
    assert replacement.source == RegistrationSource.REPLACEMENT
    assert replacement.coverage_starts_at == world.order.delivered_at
    last_second = datetime(2027, 3, 11, 0, 0, tzinfo=SHANGHAI) - timedelta(seconds=1)
    assert unit_eligibility(product=world.product, registration=replacement, at=last_second).eligibility.covers("parts")
    assert not unit_eligibility(
        product=world.product, registration=replacement, at=last_second + timedelta(seconds=1)
    ).eligibility.covers("parts")
    with pytest.raises(TransitionNotAllowed):
        registration_swap(registration=world.registration, new_serial_number="TAP-0778", actor=world.technician)
