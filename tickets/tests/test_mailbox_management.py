"""A merchant admin manages mailboxes beyond their settings: "fetch now" (queued, at most once a
minute), removal that keeps the mail, restoring, and a connection test that says what is wrong —
the server's name, the port, TLS, the credentials — against a real Dovecot where it can."""

import socket
import ssl
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from imapclient.exceptions import LoginError

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from aftersales.tests.servers import free_port, imap_server
from tickets.mail_errors import connection_problem
from tickets.models import Email, ImapSecurity, Mailbox, Ticket
from tickets.services.mail import mail_receive, mailbox_save, mailbox_test, mailboxes_to_fetch
from tickets.services.mailboxes import mailbox_fetch_now, mailbox_remove, mailbox_restore
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_member(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.MERCHANT_ADMIN).user


@pytest.fixture
def admin_client(client, admin_member):
    client.force_login(admin_member)
    return client


@pytest.fixture
def imap_box(merchant):
    return MailboxFactory(merchant=merchant, imap_host="imap.shop.test", imap_username="support@shop.test")


# --- fetch now -----------------------------------------------------------------------------------


def test_fetch_now_queues_the_fetch_task_after_commit_and_refuses_a_second_press_within_the_minute(
    admin_member, imap_box, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr("tickets.services.mailboxes.enqueue_on_commit", lambda task, pk: queued.append(pk))
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        mailbox_fetch_now(mailbox=imap_box, actor=admin_member)
    with time_machine.travel(start + timedelta(seconds=59), tick=False), pytest.raises(Conflict) as refused:
        mailbox_fetch_now(mailbox=imap_box, actor=admin_member)
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        mailbox_fetch_now(mailbox=imap_box, actor=admin_member)

    assert refused.value.code == "fetch_rate_limited"
    assert "1 seconds" in refused.value.message
    assert queued == [imap_box.pk, imap_box.pk]
    assert Mailbox.objects.get(pk=imap_box.pk).fetch_requested_at == start + timedelta(seconds=60)


def test_fetch_now_runs_the_real_fetch_task_once_committed(admin_member, merchant, django_capture_on_commit_callbacks):
    with imap_server() as server:
        server.deliver(raw_mail(subject="Where is my parcel?"))
        mailbox = MailboxFactory(
            merchant=merchant,
            imap_host=server.host,
            imap_port=server.port,
            imap_security=ImapSecurity.NONE,
            imap_username=server.username,
            imap_password=server.password,
        )
        with django_capture_on_commit_callbacks(execute=True):
            mailbox_fetch_now(mailbox=mailbox, actor=admin_member)

    mailbox.refresh_from_db()
    assert (mailbox.last_fetch_outcome, mailbox.last_fetch_count, mailbox.last_error) == ("ok", 1, "")
    assert list(Ticket.objects.filter(merchant=merchant).values_list("subject", flat=True)) == ["Where is my parcel?"]


def test_fetch_now_is_refused_for_a_paused_mailbox_or_one_without_imap(admin_member, merchant):
    paused = MailboxFactory(merchant=merchant, imap_host="h", imap_username="u", is_active=False, is_default=False)
    webhook_only = MailboxFactory(merchant=merchant, is_default=False)

    with pytest.raises(Conflict) as paused_refused:
        mailbox_fetch_now(mailbox=paused, actor=admin_member)
    with pytest.raises(InvalidInput) as unset_refused:
        mailbox_fetch_now(mailbox=webhook_only, actor=admin_member)

    assert (paused_refused.value.code, unset_refused.value.code) == ("mailbox_inactive", "imap_not_set")
    assert Mailbox.objects.filter(fetch_requested_at__isnull=False).count() == 0


def test_only_a_merchant_admin_of_the_mailboxs_merchant_may_fetch_remove_or_restore(imap_box, agent):
    outsider = MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user

    for actor in (agent, outsider):
        for action in (mailbox_fetch_now, mailbox_remove, mailbox_restore):
            with pytest.raises(PermissionRefused):
                action(mailbox=imap_box, actor=actor)

    imap_box.refresh_from_db()
    assert (imap_box.fetch_requested_at, imap_box.removed_at, imap_box.is_active) == (None, None, True)


def test_the_fetch_now_button_says_it_is_queued_then_that_it_is_too_soon(admin_client, imap_box, monkeypatch):
    monkeypatch.setattr("tickets.services.mailboxes.enqueue_on_commit", lambda task, pk: None)
    page = admin_client.get(reverse("dashboard:mailbox", args=[imap_box.pk])).content.decode()
    url = reverse("dashboard:mailbox_fetch", args=[imap_box.pk])

    first = admin_client.post(url, follow=True).content.decode()
    second = admin_client.post(url, follow=True).content.decode()

    assert 'id="fetch-now"' in page
    assert "Fetch queued." in first
    assert "A fetch was asked for a moment ago" in second


# --- remove and restore --------------------------------------------------------------------------


def test_removing_a_mailbox_keeps_its_mail_stops_fetching_and_closes_its_webhook(admin_member, imap_box, client):
    email_row = mail_receive(mailbox=imap_box, raw=raw_mail(subject="Kettle leaks"))
    ticket_id = email_row.ticket_id

    mailbox_remove(mailbox=imap_box, actor=admin_member)
    mailbox_remove(mailbox=imap_box, actor=admin_member)  # a replay changes nothing

    imap_box.refresh_from_db()
    assert imap_box.removed_at is not None
    assert (imap_box.is_active, imap_box.is_default) == (False, False)
    assert imap_box.pk not in mailboxes_to_fetch()
    assert Email.objects.filter(mailbox=imap_box).count() == 1
    assert Ticket.objects.filter(pk=ticket_id).exists()
    posted = client.post(
        reverse("mail_inbound", args=[imap_box.inbound_token]) + "?provider=raw",
        raw_mail(subject="After removal"),
        content_type="message/rfc822",
    )
    assert posted.status_code == 404
    assert Email.objects.filter(mailbox=imap_box).count() == 1


def test_a_removed_mailbox_cannot_be_edited_until_it_is_restored_paused(admin_member, imap_box, merchant):
    mailbox_remove(mailbox=imap_box, actor=admin_member)

    with pytest.raises(TransitionNotAllowed):
        mailbox_save(merchant=merchant, actor=admin_member, values={"is_active": True}, mailbox=imap_box)
    assert Mailbox.objects.get(pk=imap_box.pk).is_active is False

    mailbox_restore(mailbox=imap_box, actor=admin_member)
    restored = Mailbox.objects.get(pk=imap_box.pk)
    assert (restored.removed_at, restored.is_active) == (None, False)
    mailbox_save(merchant=merchant, actor=admin_member, values={"is_active": True}, mailbox=imap_box)
    assert Mailbox.objects.get(pk=imap_box.pk).is_active is True


def test_the_pages_remove_list_and_restore_a_mailbox(admin_client, imap_box):
    removed = admin_client.post(reverse("dashboard:mailbox_remove", args=[imap_box.pk]), follow=True)
    listing = admin_client.get(reverse("dashboard:mailboxes"))
    detail = admin_client.get(reverse("dashboard:mailbox", args=[imap_box.pk])).content.decode()
    admin_client.post(reverse("dashboard:mailbox_restore", args=[imap_box.pk]))

    assert "Mailbox removed." in removed.content.decode()
    assert listing.context["mailboxes"] == []
    assert [box.pk for box in listing.context["removed_mailboxes"]] == [imap_box.pk]
    assert 'id="mailbox-removed"' in detail
    assert Mailbox.objects.get(pk=imap_box.pk).removed_at is None


def test_another_merchants_admin_cannot_fetch_remove_or_restore_our_mailbox(client, imap_box):
    outsider = MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user
    client.force_login(outsider)

    answers = [
        client.post(reverse(name, args=[imap_box.pk])).status_code
        for name in ("dashboard:mailbox_fetch", "dashboard:mailbox_remove", "dashboard:mailbox_restore")
    ]

    assert answers == [404, 404, 404]
    imap_box.refresh_from_db()
    assert (imap_box.fetch_requested_at, imap_box.removed_at) == (None, None)


def test_the_imap_password_stays_encrypted_at_rest(admin_member, merchant):
    from django.db import connection

    mailbox = mailbox_save(
        merchant=merchant,
        actor=admin_member,
        values={"name": "S", "address": "s@shop.test", "imap_security": "ssl", "imap_port": 993},
        password="pa55-w0rd",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password FROM tickets_mailbox WHERE id = %s", [mailbox.pk])
        stored = cursor.fetchone()[0]

    assert "pa55-w0rd" not in stored
    assert Mailbox.objects.get(pk=mailbox.pk).imap_password == "pa55-w0rd"


# --- connection test: what is wrong ----------------------------------------------------------------


def _box(merchant, server, **overrides):
    values = {
        "merchant": merchant,
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": ImapSecurity.NONE,
        "imap_username": server.username,
        "imap_password": server.password,
    }
    values.update(overrides)
    return MailboxFactory(**values)


def test_the_connection_test_names_wrong_credentials_tls_and_port_against_a_real_server(admin_member, merchant):
    with imap_server() as server:
        good = _box(merchant, server)
        wrong_password = _box(merchant, server, imap_password="nope", is_default=False)
        tls_on_plain = _box(merchant, server, imap_security=ImapSecurity.SSL, is_default=False)
        starttls_missing = _box(merchant, server, imap_security=ImapSecurity.STARTTLS, is_default=False)
        closed_port = _box(merchant, server, imap_port=free_port(), is_default=False)

        assert mailbox_test(mailbox=good, actor=admin_member) == 0
        refusals = {}
        for name, mailbox in [
            ("login", wrong_password),
            ("tls", tls_on_plain),
            ("starttls", starttls_missing),
            ("port", closed_port),
        ]:
            with pytest.raises(InvalidInput) as refused:
                mailbox_test(mailbox=mailbox, actor=admin_member)
            refusals[name] = (refused.value.code, refused.value.message)

    assert refusals["login"][0] == "imap_login"
    assert "refused the user name or password" in refusals["login"][1]
    assert refusals["tls"][0] == "imap_tls"
    assert "check the security setting" in refusals["tls"][1]
    assert refusals["starttls"][0] == "imap_tls"
    assert refusals["port"][0] == "imap_refused"
    assert f"nothing answers on 127.0.0.1 port {closed_port.imap_port}" in refusals["port"][1]
    for _code, message in refusals.values():
        assert message.startswith("The mailbox could not be reached: ")
    assert Mailbox.objects.filter(merchant=merchant, last_fetch_at__isnull=False).count() == 0


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (socket.gaierror(-2, "Name or service not known"), "imap_host_unknown", "imap.nowhere.test was not found"),
        (TimeoutError("timed out"), "imap_timeout", "did not answer in time"),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), "imap_certificate", "certificate"),
        (LoginError("AUTHENTICATIONFAILED"), "imap_login", "user name or password"),
    ],
)
def test_each_kind_of_connection_error_gets_its_own_explanation(error, code, words):
    mailbox = Mailbox(imap_host="imap.nowhere.test", imap_port=993, imap_folder="INBOX")

    found_code, message = connection_problem(error, mailbox)

    assert found_code == code
    assert words in message
