"""What went wrong reaching a mailbox, in words a merchant admin can act on: the server's name,
nothing listening, no answer, the TLS setting, the credentials, the folder. Pure: it reads the
exception and the settings that were tried, and writes nothing."""

import imaplib
import socket
import ssl
from typing import Protocol

from django.utils.translation import gettext as _
from imapclient.exceptions import CapabilityError, LoginError

DETAIL_LIMIT = 300


class _Connection(Protocol):
    imap_host: str
    imap_port: int
    imap_folder: str


def _detail(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:DETAIL_LIMIT]


def _reason(exc: BaseException, mailbox: _Connection) -> tuple[str, str]:
    where = {"host": mailbox.imap_host, "port": mailbox.imap_port, "detail": _detail(exc)}
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
    return "imap_failed", _detail(exc)


def connection_problem(exc: BaseException, mailbox: _Connection) -> tuple[str, str]:
    """(code, message) for an error raised while connecting, logging in or opening the folder."""
    code, reason = _reason(exc, mailbox)
    return code, _("The mailbox could not be reached: %(error)s") % {"error": reason}
