"""What went wrong reaching a mailbox, in words a merchant admin can act on: the server's name,
nothing listening, no answer, the TLS setting, the credentials, the folder. Pure: it reads the
exception and the settings that were tried, and writes nothing.

The exception's own text is never kept or shown as it came: it may be long, carry the user name or
password the server echoed back, or a server's banner. ``redacted_detail`` is what is kept of it."""

import imaplib
import re
import socket
import ssl
from typing import Protocol

from django.utils.translation import gettext as _
from imapclient.exceptions import CapabilityError, LoginError

from tickets.models import FetchErrorReason

DETAIL_LIMIT = 300
REDACTED = "[redacted]"
# key=value or key: value pairs that name a secret, whatever the server or library wrote.
_SECRET_PAIRS = re.compile(
    r"(?i)\b(pass(?:word|wd)?|pwd|secret|token|auth(?:orization)?|login|user(?:name)?)\b(\s*[=:]\s*)\S+"
)
# What follows LOGIN / AUTHENTICATE in an echoed command: the credentials themselves.
# ("LOGIN command error: ..." is imaplib naming the command, not echoing it.)
_ECHOED_COMMAND = re.compile(r"(?i)\b(LOGIN|AUTHENTICATE)\b\s+(?!command\b)\S+(?:\s+\S+)?")
# An untagged greeting ("* OK [CAPABILITY ...] Dovecot ready."): the server's software and options.
_GREETING = re.compile(r"\*\s+(?:OK|PREAUTH|BYE)\b[^\r\n]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class _Connection(Protocol):
    imap_host: str
    imap_port: int
    imap_folder: str


def redacted_detail(exc: BaseException, mailbox: _Connection) -> str:
    """The exception's text, fit to keep and show to an admin: the mailbox's user name and password
    and anything named like a secret replaced, a server's greeting banner dropped, control
    characters out, at most ``DETAIL_LIMIT`` characters."""
    text = str(exc) or type(exc).__name__
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        text = text[2:-1]  # imaplib passes the server's answer on as bytes' repr
    for secret in (getattr(mailbox, "imap_password", ""), getattr(mailbox, "imap_username", "")):
        if secret and len(secret) >= 3:
            text = re.sub(re.escape(secret), REDACTED, text, flags=re.IGNORECASE)
    text = _ECHOED_COMMAND.sub(lambda found: f"{found.group(1)} {REDACTED}", text)
    text = _SECRET_PAIRS.sub(lambda found: f"{found.group(1)}{found.group(2)}{REDACTED}", text)
    text = _GREETING.sub("", text)
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > DETAIL_LIMIT:
        text = text[: DETAIL_LIMIT - 1] + "…"
    return text or type(exc).__name__


# The classified reason of each explanation's code (``_reason``).
_FETCH_REASONS = {
    "imap_login": FetchErrorReason.AUTH_FAILED,
    "imap_refused": FetchErrorReason.CONNECTION_REFUSED,
    "imap_timeout": FetchErrorReason.TIMEOUT,
    "imap_certificate": FetchErrorReason.TLS,
    "imap_tls": FetchErrorReason.TLS,
    "imap_folder": FetchErrorReason.MAILBOX_MISSING,
}


def fetch_problem(exc: BaseException, mailbox: _Connection) -> tuple[FetchErrorReason, str]:
    """(reason, detail) for an error raised while fetching: the reason classified (what staff see,
    translated when shown), the detail redacted and bounded (what admins may read)."""
    code, _explanation = _reason(exc, mailbox)
    return _FETCH_REASONS.get(code, FetchErrorReason.OTHER), redacted_detail(exc, mailbox)


def _reason(exc: BaseException, mailbox: _Connection) -> tuple[str, str]:
    detail = redacted_detail(exc, mailbox)
    where: dict[str, object] = {"host": mailbox.imap_host, "port": mailbox.imap_port, "detail": detail}
    if isinstance(exc, socket.gaierror):
        return "imap_host_unknown", _("the server name %(host)s was not found (%(detail)s).") % where
    if isinstance(exc, ConnectionRefusedError):
        return "imap_refused", _("nothing answers on %(host)s port %(port)s; check the server and the port.") % where
    if isinstance(exc, TimeoutError):
        return "imap_timeout", _(
            "%(host)s port %(port)s did not answer in time; check the server, the port and any firewall."
        ) % where
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "imap_certificate", _("the server's certificate could not be verified (%(detail)s).") % where
    if isinstance(exc, ssl.SSLError):
        return "imap_tls", _(
            "the secure connection failed (%(detail)s); check the security setting (SSL/TLS or STARTTLS) and the port."
        ) % where
    if isinstance(exc, CapabilityError) or "STARTTLS" in str(exc).upper():
        return "imap_tls", _(
            "the server does not offer STARTTLS (%(detail)s); check the security setting and the port."
        ) % where
    if isinstance(exc, LoginError):
        return "imap_login", _("the server refused the user name or password (%(detail)s).") % where
    if isinstance(exc, imaplib.IMAP4.error) and "select" in str(exc).lower():
        return "imap_folder", _("the folder %(folder)s could not be opened (%(detail)s).") % {
            **where,
            "folder": mailbox.imap_folder,
        }
    if isinstance(exc, OSError):
        return "imap_unreachable", _("%(host)s port %(port)s could not be reached (%(detail)s).") % where
    return "imap_failed", detail


def connection_problem(exc: BaseException, mailbox: _Connection) -> tuple[str, str]:
    """(code, message) for an error raised while connecting, logging in or opening the folder."""
    code, reason = _reason(exc, mailbox)
    return code, _("The mailbox could not be reached: %(error)s") % {"error": reason}
