"""Notification templates live in ``templates/notifications/<name>/``: ``subject.txt`` and
``body.txt`` for e-mail (and ``body.html``, optional, its HTML part), ``short.txt`` for SMS and
WeChat. They are rendered in the recipient's
language, so every shipped language has every template through the catalogs."""

from dataclasses import dataclass

from django.template import TemplateDoesNotExist, engines
from django.utils import translation


@dataclass(frozen=True)
class RenderedNotification:
    subject: str
    body: str
    short: str


def render_notification(template: str, context: dict, language: str) -> RenderedNotification:
    engine = engines["text"]

    def render_to_string(name: str, context: dict) -> str:
        return engine.get_template(name).render(context)

    with translation.override(language):
        base = f"notifications/{template}"
        subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())
        body = render_to_string(f"{base}/body.txt", context).strip() + "\n"
        short = " ".join(render_to_string(f"{base}/short.txt", context).split())
    return RenderedNotification(subject=subject, body=body, short=short)


def render_notification_html(template: str, context: dict, language: str) -> str | None:
    """The HTML part of an e-mail, from ``body.html`` beside the text templates when the template
    has one (autoescaped: a customer's words never become markup); None when it has none."""
    try:
        html_template = engines["django"].get_template(f"notifications/{template}/body.html")
    except TemplateDoesNotExist:
        return None
    with translation.override(language):
        return html_template.render(context)
