"""Reading an e-mail: headers for threading, the text a person wrote, sanitised HTML, the files,
and whether it came from a machine. Pure: bytes in, values out; no database, no network.

What the timeline shows is what the customer wrote this time: quoted history and signatures are
cut here (the original is kept whole beside it). HTML is never shown as it came: ``nh3`` keeps
formatting and drops scripts, styles, event handlers, forms and every image (a remote image is a
read receipt; an inline one is kept as a file instead).
"""

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.contentmanager import raw_data_manager
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses

import nh3

# The human numbers of the case hub (tickets.models.NUMBER_PREFIXES): RT-000123, SUP-000042, …
TICKET_NUMBER_RE = re.compile(r"\b(RT|EX|RF|RP|SUP|CP|INQ)-(\d{6,})\b")
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")

MAX_SUBJECT = 200
# Characters of a visible body kept; the original is always kept whole as a file.
MAX_TEXT = 20000

ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS) - {"img"}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})


class Noise:
    """Why a message must not open a case nor be answered."""

    NONE = ""
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str
    sender_name: str
    subject: str
    text: str
    visible_text: str
    html: str
    files: tuple[MailFile, ...] = field(default=())
    noise: str = Noise.NONE
    noise_reason: str = ""

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The ids this message answers, the most direct first: In-Reply-To, then References
        from the newest back."""
        seen: list[str] = []
        for message_id in (*self.in_reply_to, *reversed(self.references)):
            if message_id not in seen:
                seen.append(message_id)
        return tuple(seen)


def message_ids(value: str | None) -> tuple[str, ...]:
    return tuple(MESSAGE_ID_RE.findall(value or ""))


def ticket_number_in(subject: str) -> str | None:
    match = TICKET_NUMBER_RE.search(subject or "")
    return f"{match.group(1)}-{match.group(2)}" if match else None


def sanitise_html(markup: str) -> str:
    """Formatting kept; scripts, styles, handlers, forms and images gone; links made safe."""
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BLOCK_END = re.compile(r"(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>")


def html_to_text(markup: str) -> str:
    with_breaks = _BLOCK_END.sub("\n", markup)
    text = html.unescape(nh3.clean(with_breaks, tags=set()))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Where the quoted history of a reply starts, in the clients our customers use.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On .{1,200}wrote:\s*$"),
    re.compile(r"^\s*在.{1,200}写道[:：]\s*$"),
    re.compile(r"^\s*-{2,}\s*(Original Message|原始邮件|Forwarded message|转发邮件)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*(From|发件人)\s*[:：].+$"),
]
_SIGNATURE_STARTS = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(Sent from my |Get Outlook for )", re.IGNORECASE),
    re.compile(r"^\s*(发自我的|来自我的|发自 ?iPhone|从我的)"),
]


def visible_part(text: str) -> str:
    """What the sender wrote this time: the text above the quoted history and the signature."""
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _QUOTE_HEADERS):
            break
        if any(pattern.match(line) for pattern in _SIGNATURE_STARTS):
            break
        if line.lstrip().startswith(">"):
            # A quoted block: cut from here unless the sender writes again below it (inline answers).
            rest = lines[index + 1 :]
            if not any(later.strip() and not later.lstrip().startswith(">") for later in rest):
                break
        kept.append(line)
    visible = "\n".join(kept).strip()
    return visible or text.strip()


Headers = dict[str, list[str]]


def raw_headers(message: EmailMessage) -> Headers:
    """The message's headers by lower-case name, unparsed: the default policy parses a header into
    a structured object on every read, the better part of a mail's parsing time."""
    headers: Headers = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(_eight_bit(str(value)).replace("\r\n", "").replace("\n", ""))
    return headers


def _eight_bit(value: str) -> str:
    """Raw 8-bit bytes in a header (UTF-8 without encoded words, as many clients send Chinese)
    arrive as surrogates; read them as UTF-8, replacing what is not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _first(headers: Headers, name: str) -> str:
    values = headers.get(name.lower())
    return values[0].strip() if values else ""


def decoded(value: str) -> str:
    """A header value with its RFC 2047 encoded words (=?utf-8?b?...?=) decoded."""
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, ValueError, HeaderParseError, UnicodeError):
        return value


def noise_of(message: EmailMessage, sender: str, headers: Headers | None = None) -> tuple[str, str]:
    """(kind, the header that told) for bounces and auto-replies; (``Noise.NONE``, "") otherwise."""
    headers = raw_headers(message) if headers is None else headers
    content_type = message.get_content_type()
    report_param = message.get_param("report-type") if content_type == "multipart/report" else None
    report_type = report_param.lower() if isinstance(report_param, str) else ""
    if report_type == "delivery-status" or content_type == "message/delivery-status":
        return Noise.BOUNCE, "Content-Type: multipart/report; report-type=delivery-status"
    if sender and re.match(r"^(mailer-daemon|postmaster)@", sender, re.IGNORECASE):
        return Noise.BOUNCE, f"From: {sender}"
    if _first(headers, "Return-Path") == "<>":
        return Noise.BOUNCE, "Return-Path: <>"
    auto_submitted = _first(headers, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return Noise.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}"
    precedence = _first(headers, "Precedence").lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return Noise.AUTO_REPLY, f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if header.lower() in headers:
            return Noise.AUTO_REPLY, header
    if _first(headers, "X-Auto-Response-Suppress").lower() in {"all", "oof"} and _first(
        headers, "X-MS-Exchange-Generated-Message-Source"
    ):
        return Noise.AUTO_REPLY, "X-Auto-Response-Suppress"
    # Not "noreply@" senders: shop platforms forward buyers' messages from such an address, with
    # the buyer in Reply-To.
    return Noise.NONE, ""


def _addresses(headers: Headers, name: str) -> list[tuple[str, str]]:
    return [
        (decoded(display).strip(), address.strip().lower())
        for display, address in getaddresses(headers.get(name.lower(), []))
        if "@" in address
    ]


class _PlainHeadersMessage(EmailMessage):
    """``EmailMessage``'s body search (``get_body``) over the ``compat32`` policy, whose headers are
    plain strings: the default policy parses every header it is asked for into a structured object
    (Content-Type alone about ten times per message), which cost more than the rest of the parsing.
    What reads those objects is replaced by its plain-string equivalent."""

    def is_attachment(self) -> bool:
        return self.get_content_disposition() == "attachment"


def _decode(part: EmailMessage) -> str:
    try:
        # The default policy's content manager (compat32 has none): the payload decoded by its
        # transfer encoding, then its charset.
        content = part.get_content(content_manager=raw_data_manager)
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _files(message: EmailMessage) -> list[MailFile]:
    files: list[MailFile] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        name = part.get_filename()
        if name and "=?" in name:
            # Encoded words in a parameter (not RFC 2231, but common): the default policy's parser
            # decoded them, compat32 leaves them as sent.
            name = decoded(name)
        if disposition != "attachment" and not (name and part.get_content_maintype() != "text"):
            continue
        content = part.get_payload(decode=True)
        if not isinstance(content, bytes):
            continue
        files.append(
            MailFile(name=_eight_bit(name or "attachment")[:255], content_type=part.get_content_type(), content=content)
        )
    return files


def parse_mail(raw: bytes) -> ParsedMail:
    message = email.message_from_bytes(raw, _class=_PlainHeadersMessage, policy=email.policy.compat32)
    assert isinstance(message, EmailMessage)  # noqa: S101 (the class given)
    headers = raw_headers(message)
    reply_to = _addresses(headers, "Reply-To")
    from_header = _addresses(headers, "From")
    sender_name, sender = (reply_to or from_header or [("", "")])[0]
    from_address = from_header[0][1] if from_header else sender
    ids = message_ids(_first(headers, "Message-ID"))
    # A message without an id gets one from its content: fetched twice, it is still one message.
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"
    subject = " ".join(decoded(_first(headers, "Subject")).split())[:MAX_SUBJECT]

    plain_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    markup = _decode(html_part) if isinstance(html_part, EmailMessage) else ""
    if isinstance(plain_part, EmailMessage):
        text = _decode(plain_part)
    elif markup:
        text = html_to_text(markup)
    else:
        text = ""
    text = text.replace("\r\n", "\n").strip()
    noise, reason = noise_of(message, from_address, headers)
    return ParsedMail(
        message_id=message_id[:255],
        in_reply_to=message_ids(" ".join(headers.get("in-reply-to", []))),
        references=message_ids(" ".join(headers.get("references", []))),
        sender=sender,
        sender_name=sender_name[:200],
        subject=subject,
        text=text[:MAX_TEXT],
        visible_text=visible_part(text)[:MAX_TEXT],
        html=sanitise_html(markup).strip() if markup else "",
        files=tuple(_files(message)),
        noise=noise,
        noise_reason=reason,
    )


def format_address(name: str, address: str) -> str:
    local, _, domain = address.partition("@")
    return str(Address(display_name=name, username=local, domain=domain))
