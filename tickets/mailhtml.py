"""An inbound e-mail's HTML as staff may see it: a whole, inert document built from the original
message kept beside the case. Pure: bytes in, a string out; no database, no network.

The markup goes through ``nh3`` (scripts, styles, style attributes — and with them CSS
expressions —, event handlers, forms, frames and ``javascript:`` links dropped; links get
``rel="noopener noreferrer nofollow"`` and open in a new tab). Remote images are read receipts:
by default every ``<img>`` loses its address and shows its alt text; with ``show_images`` (a click
on "show images"), http(s) images keep theirs. Inline (``cid:``) and ``data:`` images are never
loaded here: inline parts are attachments of their own.

The document is served in a sandboxed frame (no scripts, no same origin) under a Content Security
Policy that allows no script, no connection and, unless asked, no image: ``document_csp``.
"""

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape

import nh3

from tickets.mailparse import ALLOWED_TAGS

IMAGE_SCHEMES = ("https://", "http://")
LINK_SCHEMES = frozenset({"http", "https", "mailto"})


@dataclass(frozen=True)
class MailDocument:
    html: str  # a whole document, or "" when the message has no HTML part
    remote_images: int  # images with a remote address in the message
    images_shown: bool


def _html_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        return ""
    part = message.get_body(preferencelist=("html",))
    if not isinstance(part, EmailMessage):
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def sanitised_mail_html(markup: str, *, show_images: bool) -> tuple[str, int]:
    """(sanitised markup, how many remote images it asks for)."""
    remote = 0

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal remote
        if tag == "img" and attribute == "src":
            address = value.strip()
            if not address.lower().startswith(IMAGE_SCHEMES):
                return None  # cid:, data:, javascript: … never loaded here
            remote += 1
            return address if show_images else None
        return value

    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes["img"] = {"src", "alt", "width", "height", "title"}
    cleaned = nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS) | {"img"},
        clean_content_tags={"script", "style"},
        attributes=attributes,
        attribute_filter=keep,
        url_schemes=set(LINK_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
    return cleaned, remote


def mail_document(raw: bytes, *, show_images: bool = False, title: str = "") -> MailDocument:
    """The message's HTML part as a whole document, sanitised; "" when it has none."""
    markup = _html_part(raw)
    if not markup.strip():
        return MailDocument(html="", remote_images=0, images_shown=False)
    body, remote = sanitised_mail_html(markup, show_images=show_images)
    document = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1rem;overflow-wrap:anywhere}"
        "img{max-width:100%;height:auto}img:not([src]){display:inline-block;border:1px dashed #999;"
        "padding:2px 4px;color:#666}</style>"
        f"</head><body>{body}</body></html>"
    )
    return MailDocument(html=document, remote_images=remote, images_shown=show_images and remote > 0)


def document_csp(*, images: bool) -> str:
    """The policy the document is served under: nothing runs, nothing connects, nothing is framed
    inside it; images from http(s) only when asked for; the frame's own inline style only."""
    return "; ".join(
        [
            "default-src 'none'",
            "img-src https: http:" if images else "img-src 'none'",
            "style-src 'unsafe-inline'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'self'",
            "sandbox allow-popups allow-popups-to-escape-sandbox",
        ]
    )
