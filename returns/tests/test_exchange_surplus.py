"""An exchange for a dearer variant whose difference was paid, and some replacements never sent:
units rejected at inspection, refunded instead, or a return that expired. The difference paid for
those units goes back through the refund ledger, once (``exchange-surplus:<return id>``), to the
cent, and the return completes only once it is paid."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.exceptions import TransitionNotAllowed
from aftersales.models import Notification, OrderLine
from returns.models import (
    ExecutionState,
    Refund,
    RefundExecution,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReturnRequest,
    ReturnStatus,
)
from returns.services import (
    exchange_difference_confirm_paid,
    exchange_ship,
    refund_confirm_manual,
    refund_execute,
    refund_grant,
    refund_void,
    return_request_expire,
    return_request_inspect,
    return_request_settle,
)
from returns.tasks import return_exchange_surplus_pay
from returns.tests.builders import (
    api_client,
    drive,
    exchange,
    inspect_all,
    race,
    received,
    send_back,
    url,
    variant_shop,
)
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def surplus_key(return_request: ReturnRequest) -> str:
    return f"exchange-surplus:{return_request.pk}"


def status(return_request: ReturnRequest) -> str:
    return ReturnRequest.objects.get(pk=return_request.pk).status


def jacket_counters(shop) -> tuple:
    """(requested, received, accepted, refunded, exchanged) of the jacket's order line."""
    return OrderLine.objects.filter(pk=shop.jacket.pk).values_list(
        "quantity_requested", "quantity_received", "quantity_accepted", "quantity_refunded", "quantity_exchanged"
    )[0]


def paid_dearer_exchange(shop) -> ReturnRequest:
    """A received exchange of the 2 jackets (100.00 a unit paid) for size L (120.00: +20.00 a unit),
    the 40.00 difference confirmed paid."""
    return_request = received(shop, {shop.jacket: shop.large})
    exchange_difference_confirm_paid(return_request=return_request, actor=shop.world.agent, reference="PAY-7")
    return return_request


def inspect(return_request: ReturnRequest, *, actor, rejected: int) -> None:
    return_request_inspect(
        return_request=return_request, actor=actor, lines=inspect_all(return_request, rejected_per_line=rejected)
    )


def confirm_payout(refund: Refund, actor, reference: str) -> None:
    refund_confirm_manual(execution=RefundExecution.objects.get(refund=refund), actor=actor, reference=reference)


# --- some units rejected ---------------------------------------------------------------------------


def test_a_rejected_unit_gets_its_paid_difference_back_once_and_the_return_completes_when_it_is_paid(
    django_capture_on_commit_callbacks,
):
    # Given a paid exchange of 2 jackets for size L (+20.00 each, 40.00 paid), one rejected at inspection
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    with django_capture_on_commit_callbacks(execute=True):
        inspect(return_request, actor=world.warehouse, rejected=1)
    # (nothing is refunded yet: the accepted unit may still be replaced, or refunded instead)
    assert (status(return_request), Refund.objects.count()) == (ReturnStatus.INSPECTED, 0)

    # When the warehouse ships the replacement of the accepted unit, and sends the rejected one back
    with django_capture_on_commit_callbacks(execute=True):
        shipments = exchange_ship(
            return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1"
        )
        send_back(return_request, world.warehouse)

    # Then one unit of size L is sent
    assert [(s.sku, s.quantity) for s in shipments] == [("JKT-L", 1)]
    # and exactly one refund gives back 20.00 — the difference of the rejected unit — granted by
    # the system as a price adjustment (no units), and handed to the merchant's manual adapter
    refund = Refund.objects.get()
    assert (refund.amount, refund.shipping_amount, refund.currency, refund.granted_by, refund.grant_key) == (
        Decimal("20.00"),
        Decimal("0.00"),
        "CNY",
        None,
        surplus_key(return_request),
    )
    assert list(RefundLine.objects.values_list("order_line_id", "quantity", "amount")) == [
        (shop.jacket.pk, 0, Decimal("20.00"))
    ]
    execution = RefundExecution.objects.get()
    assert (execution.refund, execution.adapter, execution.state, execution.idempotency_key) == (
        refund,
        "manual",
        ExecutionState.PENDING,
        surplus_key(return_request),
    )
    event = TicketEvent.objects.get(ticket=return_request.ticket, verb="exchange_difference_surplus")
    assert (event.is_public, event.data) == (
        True,
        {
            "refund": refund.pk,
            "amount": "20.00",
            "currency": "CNY",
            "lines": {str(shop.jacket.pk): {"units": 1, "difference_per_unit": "20.00", "amount": "20.00"}},
        },
    )
    # and the return waits for that payout: it is not complete while the money is owed
    assert status(return_request) == ReturnStatus.SETTLING
    # the order line: 2 requested and received, 1 accepted, 1 exchanged, none refunded (the units
    # themselves are not refunded, only the difference)
    assert jacket_counters(shop) == (2, 2, 1, 0, 1)

    # When staff confirm the payout
    confirm_payout(refund, world.agent, "BO-20")

    # Then the refund is paid, the customer is told as for any refund, and the return completes
    assert Refund.objects.get().state == RefundState.PAID
    told = Notification.objects.filter(template="return_refunded", ticket=return_request.ticket).order_by("channel")
    assert [(row.channel, row.context["amount"], row.context["currency"]) for row in told] == [
        ("email", "20.00", "CNY"),
        ("sms", "20.00", "CNY"),
    ]
    assert status(return_request) == ReturnStatus.COMPLETED
    assert jacket_counters(shop) == (2, 2, 1, 0, 1)


def test_recording_the_parcel_again_and_running_the_payment_again_pay_the_surplus_once(
    django_capture_on_commit_callbacks,
):
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    inspect(return_request, actor=world.warehouse, rejected=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")

    # When the parcel is recorded again and the payment task runs twice more
    with django_capture_on_commit_callbacks(execute=True):
        again = exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    return_exchange_surplus_pay(return_request.pk)
    return_exchange_surplus_pay(return_request.pk)

    # Then there is still one parcel, one refund of 20.00 and one payment call
    assert [s.pk for s in again] == [s.pk for s in first]
    assert (ReplacementShipment.objects.count(), RefundExecution.objects.count()) == (1, 1)
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("20.00")]
    assert TicketEvent.objects.filter(verb="exchange_difference_surplus").count() == 1
    assert jacket_counters(shop) == (2, 2, 1, 0, 1)


# --- every unit rejected -----------------------------------------------------------------------------


def test_every_unit_rejected_refunds_the_whole_difference_and_settling_again_grants_nothing_more(
    django_capture_on_commit_callbacks,
):
    # Given a paid exchange of 2 jackets for size L (40.00 paid)
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)

    # When inspection rejects both units (no replacement will be sent: the settlement starts itself)
    with django_capture_on_commit_callbacks(execute=True):
        inspect(return_request, actor=world.warehouse, rejected=2)

    # Then 40.00 is refunded, on its way to the adapter, and the return settles waiting for it
    refund = Refund.objects.get()
    assert (refund.amount, refund.grant_key, refund.state) == (
        Decimal("40.00"),
        surplus_key(return_request),
        RefundState.GRANTED,
    )
    assert list(RefundLine.objects.values_list("order_line_id", "quantity", "amount")) == [
        (shop.jacket.pk, 0, Decimal("40.00"))
    ]
    assert RefundExecution.objects.get().refund == refund
    assert status(return_request) == ReturnStatus.SETTLING

    # When the settlement runs twice more (a staff click, a retried task)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            return_request_settle(return_request=return_request, actor=world.agent)

    # Then it is still one refund with one payment call
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("40.00")]
    assert RefundExecution.objects.count() == 1
    assert ReplacementShipment.objects.count() == 0

    # and once the rejected units are sent back and the payout is confirmed the return completes;
    # nothing was exchanged or refunded by unit
    send_back(return_request, world.warehouse)
    assert status(return_request) == ReturnStatus.SETTLING
    confirm_payout(refund, world.agent, "BO-40")
    assert status(return_request) == ReturnStatus.COMPLETED
    assert jacket_counters(shop) == (2, 2, 0, 0, 0)
    with pytest.raises(TransitionNotAllowed):
        return_request_settle(return_request=return_request, actor=world.agent)
    assert Refund.objects.count() == 1


def test_a_difference_confirmed_paid_after_every_unit_was_rejected_is_refunded_at_once(
    django_capture_on_commit_callbacks,
):
    # Given a received exchange for size L whose 2 units were both rejected before anything was paid
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.large})
    with django_capture_on_commit_callbacks(execute=True):
        inspect(return_request, actor=world.warehouse, rejected=2)
    assert (status(return_request), Refund.objects.count()) == (ReturnStatus.INSPECTED, 0)

    # When staff confirm the customer's payment of 40.00 all the same
    with django_capture_on_commit_callbacks(execute=True):
        exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-LATE")

    # Then the return settles and gives the 40.00 back
    assert list(Refund.objects.values_list("amount", "grant_key")) == [(Decimal("40.00"), surplus_key(return_request))]
    assert RefundExecution.objects.count() == 1
    assert status(return_request) == ReturnStatus.SETTLING


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")  # fifty connections: one race at a time
def test_fifty_concurrent_settlements_of_a_fully_rejected_exchange_give_one_refund_and_one_call():
    # Given an exchange for size L whose 2 units were rejected, and its 40.00 recorded as paid
    # (arranged with an update, so that no settlement has started yet)
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.large})
    inspect(return_request, actor=world.warehouse, rejected=2)
    ReturnRequest.objects.filter(pk=return_request.pk).update(
        exchange_difference_paid_at=timezone.now(), exchange_difference_reference="PAY-7"
    )

    # When fifty workers settle it at once (each pays after its own commit)
    outcomes = race(50, lambda: return_request_settle(return_request=return_request, actor=None))

    # Then one refund of 40.00 is granted and one payment call made
    assert outcomes == ["ok"] * 50
    assert list(Refund.objects.values_list("amount", "grant_key")) == [(Decimal("40.00"), surplus_key(return_request))]
    assert list(RefundExecution.objects.values_list("idempotency_key", flat=True)) == [surplus_key(return_request)]
    assert TicketEvent.objects.filter(verb="exchange_difference_surplus").count() == 1
    assert status(return_request) == ReturnStatus.SETTLING


# --- nothing to give back ------------------------------------------------------------------------------


def test_nothing_rejected_refunds_nothing_and_the_exchange_completes_when_shipped(
    django_capture_on_commit_callbacks,
):
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    inspect(return_request, actor=world.warehouse, rejected=0)

    with django_capture_on_commit_callbacks(execute=True):
        exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")

    assert (Refund.objects.count(), RefundExecution.objects.count()) == (0, 0)
    assert not TicketEvent.objects.filter(verb="exchange_difference_surplus").exists()
    assert status(return_request) == ReturnStatus.COMPLETED
    assert jacket_counters(shop) == (2, 2, 2, 0, 2)


def test_a_cheaper_exchange_with_a_rejected_unit_refunds_only_the_shipped_units_difference(
    django_capture_on_commit_callbacks,
):
    # Given an exchange of 2 jackets for the red one (-15.00 each), one unit rejected
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.red})
    inspect(return_request, actor=world.warehouse, rejected=1)

    # When the replacement of the accepted unit ships
    with django_capture_on_commit_callbacks(execute=True):
        shipments = exchange_ship(
            return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1"
        )

    # Then only the shipped unit's 15.00 is refunded, as before; no surplus exists
    assert list(Refund.objects.values_list("amount", "grant_key")) == [
        (Decimal("15.00"), f"exchange-difference:{shipments[0].pk}")
    ]
    assert not TicketEvent.objects.filter(verb="exchange_difference_surplus").exists()
    send_back(return_request, world.warehouse)
    confirm_payout(Refund.objects.get(), world.agent, "BO-15")
    assert status(return_request) == ReturnStatus.COMPLETED
    assert Refund.objects.count() == 1
    assert jacket_counters(shop) == (2, 2, 1, 0, 1)


# --- units settled otherwise ---------------------------------------------------------------------------


def test_a_unit_refunded_instead_of_replaced_gets_its_difference_back_once_its_refund_is_paid(
    django_capture_on_commit_callbacks,
):
    # Given a paid exchange of 2 jackets for size L, nothing rejected, one unit replaced
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    inspect(return_request, actor=world.warehouse, rejected=0)
    exchange_ship(
        return_request=return_request,
        actor=world.warehouse,
        lines=[(shop.jacket, 1, "")],
        carrier="SF",
        tracking_number="SF1",
    )

    # When the other unit is refunded instead (size L ran out), at its 100.00
    unit_refund = refund_grant(return_request=return_request, actor=world.agent, lines=[(shop.jacket, 1, "100.00")])
    refund_execute(refund=unit_refund)
    # (the surplus waits while that refund is unpaid: voided, the unit could still be replaced)
    assert Refund.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        confirm_payout(unit_refund, world.agent, "BO-100")

    # Then the 20.00 paid for that unit's size L is refunded, and the return waits for it
    surplus = Refund.objects.get(grant_key=surplus_key(return_request))
    assert (surplus.amount, surplus.state) == (Decimal("20.00"), RefundState.GRANTED)
    assert list(surplus.lines.values_list("quantity", "amount")) == [(0, Decimal("20.00"))]
    assert status(return_request) == ReturnStatus.SETTLING
    confirm_payout(surplus, world.agent, "BO-20")
    assert status(return_request) == ReturnStatus.COMPLETED
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [Decimal("20.00"), Decimal("100.00")]
    assert jacket_counters(shop) == (2, 2, 2, 1, 1)


def test_the_surplus_may_go_beyond_what_the_order_line_was_paid_by_the_difference_paid(
    django_capture_on_commit_callbacks,
):
    # Given a paid exchange (40.00) whose 2 units were both refunded instead at 100.00: the order
    # line's 200.00 is refunded in full
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    inspect(return_request, actor=world.warehouse, rejected=0)
    unit_refund = refund_grant(return_request=return_request, actor=world.supervisor)
    refund_execute(refund=unit_refund)

    # When that refund is paid
    with django_capture_on_commit_callbacks(execute=True):
        confirm_payout(unit_refund, world.supervisor, "BO-200")

    # Then the 40.00 the customer paid on top comes back too: 240.00 in all, what they paid
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [Decimal("40.00"), Decimal("200.00")]
    assert status(return_request) == ReturnStatus.SETTLING
    confirm_payout(Refund.objects.get(grant_key=surplus_key(return_request)), world.supervisor, "BO-40")
    assert status(return_request) == ReturnStatus.COMPLETED
    assert jacket_counters(shop) == (2, 2, 2, 2, 0)


def test_a_voided_surplus_refund_is_not_granted_again_and_the_return_completes(
    django_capture_on_commit_callbacks,
):
    # Given the 20.00 surplus of a rejected unit, granted and not yet paid out
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    inspect(return_request, actor=world.warehouse, rejected=1)
    with django_capture_on_commit_callbacks(execute=True):
        exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    send_back(return_request, world.warehouse)
    surplus = Refund.objects.get()

    # When a supervisor voids it (the shop gave the 20.00 back in cash at the store)
    with django_capture_on_commit_callbacks(execute=True):
        refund_void(refund=surplus, actor=world.supervisor, reason="Given back in cash at the store")

    # Then it is not granted again, and nothing else is owed: the exchange completes
    assert list(Refund.objects.values_list("state", flat=True)) == [RefundState.VOIDED]
    assert status(return_request) == ReturnStatus.COMPLETED


def test_a_paid_exchange_that_expires_unsent_refunds_the_whole_difference(django_capture_on_commit_callbacks):
    # Given an approved exchange of 2 jackets for size L, the 40.00 paid, the parcel never sent
    shop = variant_shop()
    world = shop.world
    return_request = drive(world, exchange(shop, {shop.jacket: shop.large}), ReturnStatus.APPROVED)
    exchange_difference_confirm_paid(return_request=return_request, actor=world.agent, reference="PAY-7")

    # When the ship-by deadline expires it
    with django_capture_on_commit_callbacks(execute=True):
        return_request_expire(return_request=return_request)

    # Then the return is expired, its units free again, and 40.00 is refunded
    assert status(return_request) == ReturnStatus.EXPIRED
    assert jacket_counters(shop) == (0, 0, 0, 0, 0)
    refund = Refund.objects.get()
    assert (refund.amount, refund.grant_key) == (Decimal("40.00"), surplus_key(return_request))
    confirm_payout(refund, world.agent, "BO-40")
    assert Refund.objects.get().state == RefundState.PAID
    assert status(return_request) == ReturnStatus.EXPIRED


# --- where staff and integrations see it ---------------------------------------------------------------


def test_the_return_page_shows_the_surplus_owed_then_its_refund(client, django_capture_on_commit_callbacks):
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    inspect(return_request, actor=world.warehouse, rejected=1)
    client.force_login(world.agent)
    page_url = reverse("dashboard:return", kwargs={"number": return_request.ticket.number})

    # Before the replacement ships: owed, refunded when the exchange settles
    page = client.get(page_url)
    surplus = page.context["exchange"].surplus
    assert (surplus.units, surplus.amount, surplus.refund) == (1, Decimal("20.00"), None)
    html = page.content.decode()
    assert "Paid for 1 replacement that is not sent: refunded to the customer" in html
    assert "Refunded when the exchange settles" in html

    # Once it ships: the refund and its state
    with django_capture_on_commit_callbacks(execute=True):
        exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    page = client.get(page_url)
    surplus = page.context["exchange"].surplus
    assert (surplus.units, surplus.amount, surplus.refund) == (1, Decimal("20.00"), Refund.objects.get())
    assert "Granted, not paid yet" in page.content.decode()


def test_the_api_shows_the_surplus_with_its_refund(django_capture_on_commit_callbacks):
    shop = variant_shop()
    world = shop.world
    return_request = paid_dearer_exchange(shop)
    api = api_client(world.merchant)
    assert api.get(url("return-detail", return_request)).json()["exchange_difference_surplus"] is None

    inspect(return_request, actor=world.warehouse, rejected=1)
    assert api.get(url("return-detail", return_request)).json()["exchange_difference_surplus"] == {
        "units": 1,
        "amount": "20.00",
        "refund": None,
        "refund_state": None,
    }

    with django_capture_on_commit_callbacks(execute=True):
        exchange_ship(return_request=return_request, actor=world.warehouse, carrier="SF", tracking_number="SF1")
    body = api.get(url("return-detail", return_request)).json()
    refund = Refund.objects.get()
    assert body["exchange_difference_surplus"] == {
        "units": 1,
        "amount": "20.00",
        "refund": refund.pk,
        "refund_state": "granted",
    }
    assert [(row["id"], row["amount"]) for row in body["refunds"]] == [(refund.pk, "20.00")]
