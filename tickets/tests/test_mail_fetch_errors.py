"""A fetch that cannot reach its mailbox records why as a classified reason (auth failed,
connection refused, timeout, TLS, mailbox missing, other), shown to staff in their language, and
keeps the server's words only redacted (no credentials, no greeting banner) and bounded, for
admins. Against the real Dovecot the mail tests start, and a closed port."""

import socket
import ssl

import pytest
from django.urls import reverse
from django.utils import translation
from imapclient.exceptions import LoginError

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from aftersales.tests.servers import free_port, imap_server
from tickets.mail_errors import DETAIL_LIMIT, fetch_problem, redacted_detail
from tickets.models import FetchErrorReason, FetchOutcome, Mailbox, Ticket
from tickets.services.mail import mailbox_fetch
from tickets.tests.factories import MailboxFactory
from tickets.tests.mailbuilders import raw_mail

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("processes")]

WRONG_PASSWORD = "Wr0ng-hunter2"


@pytest.fixture
def imap():
    with imap_server() as server:
        yield server


def _mailbox(imap, **overrides):
    values = {
        "address": "support@shop.test",
        "imap_host": imap.host,
        "imap_port": imap.port,
        "imap_username": imap.username,
        "imap_password": imap.password,
    }
    values.update(overrides)
    return MailboxFactory(**values)


def _closed_port() -> int:
    port = free_port()
    with socket.socket() as probe:  # nothing listens there: a connection is refused
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


def test_a_wrong_password_against_dovecot_is_recorded_as_auth_failed_without_the_password(imap):
    mailbox = _mailbox(imap, imap_password=WRONG_PASSWORD)
    imap.deliver(raw_mail())

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert (result.stored, result.error_reason) == (0, FetchErrorReason.AUTH_FAILED)
    assert (mailbox.last_fetch_outcome, mailbox.last_error_reason) == (
        FetchOutcome.FAILED,
        FetchErrorReason.AUTH_FAILED,
    )
    assert mailbox.last_error == "[AUTHENTICATIONFAILED] Authentication failed."
    assert WRONG_PASSWORD not in mailbox.last_error
    assert Ticket.objects.count() == 0


def test_a_closed_port_is_recorded_as_connection_refused(imap):
    mailbox = _mailbox(imap, imap_port=_closed_port())

    result = mailbox_fetch(mailbox_id=mailbox.pk)

    mailbox.refresh_from_db()
    assert result.error_reason == FetchErrorReason.CONNECTION_REFUSED
    assert (mailbox.last_fetch_outcome, mailbox.last_error_reason, mailbox.last_fetch_count) == (
        FetchOutcome.FAILED,
        FetchErrorReason.CONNECTION_REFUSED,
        0,
    )
    assert mailbox.last_error == "[Errno 111] Connection refused"


def test_a_missing_folder_and_a_tls_mismatch_against_dovecot_are_classified(imap):
    missing = _mailbox(imap, imap_folder="Archive/Nowhere")
    tls = _mailbox(imap, address="tls@shop.test", is_default=False, imap_security="ssl")

    mailbox_fetch(mailbox_id=missing.pk)
    mailbox_fetch(mailbox_id=tls.pk)

    assert Mailbox.objects.get(pk=missing.pk).last_error_reason == FetchErrorReason.MAILBOX_MISSING
    assert Mailbox.objects.get(pk=tls.pk).last_error_reason == FetchErrorReason.TLS


def test_a_good_fetch_after_a_failure_clears_the_reason_and_the_detail(imap):
    mailbox = _mailbox(imap, imap_password=WRONG_PASSWORD)
    mailbox_fetch(mailbox_id=mailbox.pk)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password=imap.password)
    imap.deliver(raw_mail())

    result = mailbox_fetch(mailbox_id=Mailbox.objects.get(pk=mailbox.pk).pk)

    mailbox.refresh_from_db()
    assert (result.stored, result.error_reason, result.error) == (1, "", "")
    assert (mailbox.last_fetch_outcome, mailbox.last_error_reason, mailbox.last_error) == (FetchOutcome.OK, "", "")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TimeoutError("timed out"), FetchErrorReason.TIMEOUT),
        (ssl.SSLCertVerificationError(1, "certificate verify failed"), FetchErrorReason.TLS),
        (LoginError("AUTHENTICATIONFAILED"), FetchErrorReason.AUTH_FAILED),
        (ConnectionRefusedError(111, "Connection refused"), FetchErrorReason.CONNECTION_REFUSED),
        (socket.gaierror(-2, "Name or service not known"), FetchErrorReason.OTHER),
        (OSError(101, "Network is unreachable"), FetchErrorReason.OTHER),
    ],
)
def test_each_error_gets_its_reason(error, reason):
    mailbox = Mailbox(imap_host="imap.shop.test", imap_port=993, imap_folder="INBOX")

    assert fetch_problem(error, mailbox)[0] == reason


def test_the_detail_drops_credentials_banners_and_control_characters_and_is_bounded():
    mailbox = Mailbox(
        imap_host="imap.shop.test",
        imap_port=993,
        imap_folder="INBOX",
        imap_username="kefu@shop.test",
        imap_password="S3cret-pass",
    )
    noisy = LoginError(
        "b'* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot (Debian 2.3.19) ready.\r\n"
        "a001 LOGIN kefu@shop.test S3cret-pass\r\n"
        "NO [AUTHENTICATIONFAILED] failed for KEFU@SHOP.TEST password=S3cret-pass token: abc123 " + "x" * 5000 + "'"
    )

    detail = redacted_detail(noisy, mailbox)

    assert len(detail) == DETAIL_LIMIT
    assert detail.endswith("…")
    assert detail.startswith(
        "a001 LOGIN [redacted] NO [AUTHENTICATIONFAILED] failed for [redacted] password=[redacted]"
    )
    assert "token: [redacted]" in detail
    for leaked in ("S3cret-pass", "kefu@shop.test", "KEFU@SHOP.TEST", "abc123", "Dovecot", "CAPABILITY", "\r", "\n"):
        assert leaked not in detail


def test_staff_see_the_reason_in_their_language_and_admins_the_redacted_detail(client, imap):
    mailbox = _mailbox(imap, imap_password=WRONG_PASSWORD)
    mailbox_fetch(mailbox_id=mailbox.pk)
    admin = MembershipFactory(merchant=mailbox.merchant, role=Membership.Role.MERCHANT_ADMIN).user
    client.force_login(admin)

    listing = client.get(reverse("dashboard:mailboxes")).content.decode()
    page = client.get(reverse("dashboard:mailbox", args=[mailbox.pk])).content.decode()

    assert 'title="The server refused the user name or password"' in listing
    assert "The server refused the user name or password" in page
    assert '<p class="mono small" id="last-error-detail">[AUTHENTICATIONFAILED] Authentication failed.</p>' in page
    assert WRONG_PASSWORD not in listing + page
    with translation.override("zh-hans"):
        assert str(FetchErrorReason.AUTH_FAILED.label) == "服务器拒绝了用户名或密码"
        assert str(FetchErrorReason.CONNECTION_REFUSED.label) == "服务器端口无人应答"


def test_another_merchants_admin_cannot_see_the_mailbox_or_its_error(client, imap):
    mailbox = _mailbox(imap, imap_password=WRONG_PASSWORD)
    mailbox_fetch(mailbox_id=mailbox.pk)
    outsider = MembershipFactory(role=Membership.Role.MERCHANT_ADMIN).user
    client.force_login(outsider)

    listing = client.get(reverse("dashboard:mailboxes"))
    page = client.get(reverse("dashboard:mailbox", args=[mailbox.pk]))

    assert page.status_code == 404
    assert "AUTHENTICATIONFAILED" not in listing.content.decode()
    assert mailbox.address not in listing.content.decode()
