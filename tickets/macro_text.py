"""Filling a macro's reply: pure, no reads beyond the rows handed in."""

import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aftersales.models import User
    from tickets.models import Macro, Ticket

MACRO_LANGUAGES = ("zh-hans", "en")
PLACEHOLDERS = ("customer_name", "ticket_number", "ticket_subject", "order_number", "agent_name", "merchant_name")


def fill(template: str, values: dict[str, str]) -> str:
    # format_map with only plain names: "{0}" or "{x.y}" are left as text, never evaluated.
    out = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if field is None:
            continue
        if field in values and not spec and not conversion:
            out.append(values[field])
        else:
            out.append("{" + field + (("!" + conversion) if conversion else "") + ((":" + spec) if spec else "") + "}")
    return "".join(out)


def macro_reply_text(*, macro: "Macro", ticket: "Ticket", language: str, agent: "User") -> str:
    """The reply in the customer's language (English for any language but Chinese)."""
    template = macro.reply_zh_hans if language.lower().startswith("zh") else macro.reply_en
    template = template.strip()
    if not template:
        return ""
    values = {
        "customer_name": ticket.customer.name or "",
        "ticket_number": ticket.number,
        "ticket_subject": ticket.subject,
        "order_number": ticket.order.external_number if ticket.order_id and ticket.order else "",
        "agent_name": agent.get_full_name() or agent.username,
        "merchant_name": ticket.merchant.name,
    }
    return fill(template, values)
