"""Beat's task fetches every active IMAP mailbox, and only those (tasks run in the caller here)."""

import pytest
from django.urls import reverse

from aftersales.tests.factories import MerchantFactory
from aftersales.tests.servers import imap_server
from tickets.models import FetchOutcome, Mailbox, Ticket
from tickets.tasks import mailboxes_fetch
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("processes")]


def test_beat_fetches_each_active_imap_mailbox_and_skips_the_others():
    with imap_server() as imap:
        fetched = MailboxFactory(
            address="support@shop.test",
            imap_host=imap.host,
            imap_port=imap.port,
            imap_username=imap.username,
            imap_password=imap.password,
        )
        paused = MailboxFactory(
            address="old@shop.test", is_active=False, imap_host=imap.host, imap_username=imap.username
        )
        webhook_only = MailboxFactory(merchant=MerchantFactory(), address="hooks@other.test")
        imap.deliver(raw_mail(subject="From beat"))

        queued = mailboxes_fetch.delay().get()

    assert queued == 1
    assert Ticket.objects.get(merchant=fetched.merchant).subject == "From beat"
    assert Mailbox.objects.get(pk=fetched.pk).last_fetch_outcome == FetchOutcome.OK
    assert Mailbox.objects.get(pk=paused.pk).last_fetch_at is None
    assert Mailbox.objects.get(pk=webhook_only.pk).last_fetch_at is None


def test_the_admin_makes_a_new_reply_to_address_take_over(admin_client):
    old = MailboxFactory(address="old@shop.test", is_default=True)

    response = admin_client.post(
        reverse("admin:tickets_mailbox_add"),
        {
            "merchant": old.merchant_id,
            "name": "New",
            "address": "new@shop.test",
            "is_active": "on",
            "is_default": "on",
            "imap_port": "993",
            "imap_security": "ssl",
            "imap_folder": "INBOX",
            "sender_hourly_limit": "20",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(Mailbox.objects.filter(is_default=True).values_list("address", flat=True)) == ["new@shop.test"]
