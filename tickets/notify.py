"""Who hears of a change to a case: the customer in their language, staff in theirs.

Each writes outbox rows in the caller's transaction (``notification_queue``); nothing is sent here.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from aftersales.models import Customer, Merchant, Notification, User
from aftersales.models.tenancy import CUSTOMER_CHANNELS
from aftersales.services.notifications import notification_queue, notifications_queue
from tickets.models import Ticket


def customer_language(ticket: Ticket) -> str:
    return ticket.customer.language or ticket.merchant.default_language


def subject_in(ticket: Ticket, language: str) -> str:
    """The case's subject as a reader of ``language`` reads it (a subject the system gave it is
    said in their language, tickets.system_texts)."""
    with translation.override(language):
        return ticket.display_subject


def customer_deliveries(customer: Customer, merchant: Merchant) -> list[tuple[str, str]]:
    """``(channel, recipient)`` for each channel the merchant has on and the customer has an
    address for: e-mail, SMS to the phone, WeChat to the OpenID. Reads no row."""
    addresses = {
        Notification.Channel.EMAIL: customer.email,
        Notification.Channel.SMS: customer.phone,
        Notification.Channel.WECHAT: customer.wechat_openid,
    }
    enabled = set(merchant.customer_channels or ())
    return [
        (channel.value, addresses[channel])
        for channel in CUSTOMER_CHANNELS
        if channel.value in enabled and addresses[channel]
    ]


def notify_customer(ticket: Ticket, template: str, extra: dict | None = None) -> None:
    """Tell the customer on every channel they can be reached on (``customer_deliveries``): one
    row per channel, all written in one statement."""
    customer = ticket.customer
    language = customer_language(ticket)
    context = {
        "customer_name": customer.name,
        "merchant_name": ticket.merchant.name,
        "ticket_number": ticket.number,
        "ticket_subject": subject_in(ticket, language),
        "portal_url": settings.SITE_URL + reverse("portal:home", kwargs={"merchant_slug": ticket.merchant.slug}),
        **(extra or {}),
    }
    notifications_queue(
        merchant=ticket.merchant,
        deliveries=customer_deliveries(customer, ticket.merchant),
        template=template,
        context=context,
        language=language,
        ticket=ticket,
    )


def notify_staff(ticket: Ticket, user: User | None, template: str, extra: dict | None = None) -> None:
    if user is None or not user.email:
        return
    language = user.language or ticket.merchant.default_language
    notification_queue(
        merchant=ticket.merchant,
        channel=Notification.Channel.EMAIL,
        recipient=user.email,
        recipient_user=user,
        template=template,
        context={
            "ticket_number": ticket.number,
            "ticket_subject": subject_in(ticket, language),
            "merchant_name": ticket.merchant.name,
            "ticket_url": settings.SITE_URL + reverse("dashboard:ticket", kwargs={"number": ticket.number}),
            **(extra or {}),
        },
        language=language,
        ticket=ticket,
    )
