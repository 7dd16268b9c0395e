"""A broker that refuses at commit time: the customer's return is saved and answered as usual, and
the outbox's periodic flush sends what the task queued at commit would have sent."""

import logging

import pytest
from django.core import mail

from aftersales.celery import app
from aftersales.models import Notification
from aftersales.tasks import notifications_flush
from aftersales.tests.servers import free_port
from returns.models import ReturnRequest, ReturnStatus
from returns.services import return_request_approve
from returns.tests.builders import choose, confirm

# The portal return fixtures (returns/tests/conftest.py), on the tenth day after delivery.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "day_ten")]


@pytest.fixture
def broker_refuses():
    """Celery pointed at a port nobody listens on, not eager: every publish fails (the Redis the
    rest of the suite uses is left alone)."""
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=f"redis://127.0.0.1:{free_port()}/0", task_always_eager=False)
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


def test_a_return_confirmed_while_the_broker_refuses_is_saved_and_its_mail_goes_out_with_the_flush(
    signed_in,
    order,
    shoes,
    reasons,
    django_capture_on_commit_callbacks,
    broker_refuses,
    caplog,
):
    review = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])
    mail.outbox.clear()

    with (
        caplog.at_level(logging.WARNING, logger="aftersales.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = confirm(signed_in, order, review)

    return_request = ReturnRequest.objects.get()
    assert response.status_code == 302
    assert return_request.status == ReturnStatus.SUBMITTED
    pending = list(Notification.objects.filter(state=Notification.State.PENDING).values_list("pk", flat=True))
    assert len(pending) >= 1
    assert mail.outbox == []
    # The portal's acknowledgement is not queued at commit at all (it goes with the flush), so the
    # refusing broker is never even asked
    assert not any("could not be queued" in record.getMessage() for record in caplog.records)

    sent = notifications_flush()

    assert sent == len(pending)
    assert Notification.objects.filter(pk__in=pending, state=Notification.State.SENT).count() == len(pending)
    assert len(mail.outbox) >= 1


def test_a_return_approved_while_the_broker_refuses_is_saved_and_its_mail_goes_out_with_the_flush(
    signed_in, order, shoes, reasons, django_capture_on_commit_callbacks, broker_refuses, caplog
):
    # Given a submitted return
    review = choose(signed_in, order, {shoes: 1}, reasons["changed_mind"])
    confirm(signed_in, order, review)
    return_request = ReturnRequest.objects.get()
    Notification.objects.update(state=Notification.State.SENT)
    mail.outbox.clear()

    # When staff approve it while the broker refuses the task queued at commit
    with (
        caplog.at_level(logging.WARNING, logger="aftersales.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return_request_approve(return_request=return_request, actor=None)

    # Then the approval stands, its message waits in the outbox, and the refusal was only logged
    assert ReturnRequest.objects.get().status == ReturnStatus.APPROVED
    pending = list(Notification.objects.filter(state=Notification.State.PENDING).values_list("pk", flat=True))
    assert len(pending) >= 1
    assert mail.outbox == []
    assert any("could not be queued" in record.getMessage() for record in caplog.records)
    # and the flush sends it
    assert notifications_flush() == len(pending)
    assert Notification.objects.filter(pk__in=pending, state=Notification.State.SENT).count() == len(pending)
    assert len(mail.outbox) >= 1
