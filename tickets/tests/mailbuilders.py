"""E-mails as customers' clients send them, for the mail tests: raw bytes, ready to deliver."""

import email.policy
from email.message import EmailMessage
from email.utils import make_msgid


def raw_mail(
    *,
    sender: str = "Li Wei <li.wei@example.com>",
    to: str = "support@shop.test",
    subject: str = "My kettle leaks",
    text: str | None = "The kettle leaks from the bottom.",
    html: str | None = None,
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    files: tuple[tuple[str, str, bytes], ...] | list[tuple[str, str, bytes]] = (),
) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, content_type, content in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()
