"""Every repairs model is in the back office; what moves through services is read-only there."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from aftersales.tests.factories import CustomerFactory
from repairs.models import RepairOrder, RepairStatus
from repairs.services import (
    LineInput,
    part_reserve,
    registration_transfer,
    repair_quote_send,
    repair_triage,
    supplier_claim_open,
)
from repairs.tests.builders import request_repair
from repairs.tests.factories import (
    DiagnosisCodeFactory,
    PartStockFactory,
    RepairOrderFactory,
    ServiceCentreFactory,
    StockLocationFactory,
)

MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "repairs"), key=lambda m: m._meta.label
)


@pytest.fixture
def populated(world):
    """A row of every model, made the way the product makes them."""
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        ServiceCentreFactory(merchant=world.merchant)
        DiagnosisCodeFactory(merchant=world.merchant)
        StockLocationFactory(merchant=world.merchant)
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="Labour", unit_price=Decimal("50"))],
        )
        diagnosing = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.DIAGNOSING)
        part_reserve(
            repair_order=diagnosing, stock=PartStockFactory(merchant=world.merchant), quantity=1, actor=world.technician
        )
        registration_transfer(
            registration=world.registration, actor=world.agent, to_customer=CustomerFactory(merchant=world.merchant)
        )
        from repairs.models import ExtendedWarranty, RepairLine

        ExtendedWarranty.objects.create(merchant=world.merchant, order_line=world.line, term=world.term)
        RepairLine.objects.create(
            merchant=world.merchant,
            repair_order=diagnosing,
            kind="labour",
            description="Labour",
            unit_price=Decimal("40"),
            coverage="warranty",
        )
        supplier_claim_open(repair_order=diagnosing, actor=world.agent, supplier="Tap Works Ltd")
        # Dispatch: a technician with a day off, the merchant's dispatch policy, a booked visit.
        from datetime import timedelta

        from repairs.models import DispatchPolicy, TechnicianTimeOff, Visit
        from repairs.tests.dispatch_factories import TechnicianFactory

        technician = TechnicianFactory(merchant=world.merchant)
        DispatchPolicy.objects.create(merchant=world.merchant)
        TechnicianTimeOff.objects.create(
            technician=technician, starts_on=datetime(2027, 6, 3).date(), ends_on=datetime(2027, 6, 3).date()
        )
        window = datetime(2027, 6, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
        visit = Visit.objects.create(
            merchant=world.merchant,
            repair=repair,
            technician=technician,
            window_start=window,
            window_end=window + timedelta(hours=2),
        )
        # Made directly, so its booking counters are counted here, as after a bulk load.
        from repairs.services.visit_load import technician_loads_rebuild

        technician_loads_rebuild(merchant=world.merchant)
        # The managers' records: a stock movement, a profile change, a visit's photo.
        from repairs.models import PartStock, ProfileChange, StockMovement, VisitPhoto
        from tickets.models import Attachment

        stock = PartStock.objects.order_by("pk").first()
        StockMovement.objects.create(
            merchant=world.merchant, stock=stock, kind="adjusted", quantity=1, on_hand_after=stock.on_hand
        )
        ProfileChange.objects.create(merchant=world.merchant, technician=technician, changes={"daily_capacity": [8, 6]})
        attachment = Attachment.objects.create(
            merchant=world.merchant,
            ticket=repair.ticket,
            file="attachments/x.png",
            original_name="x.png",
            content_type="image/png",
            size=1,
            sha256="0" * 64,
        )
        VisitPhoto.objects.create(merchant=world.merchant, visit=visit, attachment=attachment, phase="before")
    return world


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_changelist_and_change_page_renders(admin_client, populated, model):
    changelist = admin_client.get(reverse(f"admin:repairs_{model._meta.model_name}_changelist"))
    row = model.objects.order_by("pk").first()
    change = admin_client.get(reverse(f"admin:repairs_{model._meta.model_name}_change", args=[row.pk]))
    searched = admin_client.get(reverse(f"admin:repairs_{model._meta.model_name}_changelist"), {"q": "x"})

    assert changelist.status_code == 200
    assert change.status_code == 200
    assert searched.status_code == 200


def test_a_repair_cannot_be_changed_or_deleted_in_the_admin(admin_client, populated):
    repair = RepairOrder.objects.order_by("pk").first()

    posted = admin_client.post(
        reverse("admin:repairs_repairorder_change", args=[repair.pk]), {"status": RepairStatus.CLOSED}
    )
    deleted = admin_client.post(reverse("admin:repairs_repairorder_delete", args=[repair.pk]), {"post": "yes"})

    assert posted.status_code == 403
    assert deleted.status_code == 403
    assert RepairOrder.objects.get(pk=repair.pk).status == repair.status
