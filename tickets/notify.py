"""Who hears of a change to a case: the customer in their language, staff in theirs.

Each writes outbox rows in the caller's transaction (``notification_queue``); nothing is sent here.
"""

from django.conf import settings
from django.urls import reverse

from aftersales.models import Notification, User
from aftersales.services.notifications import notification_queue
from tickets.models import Ticket


def customer_language(ticket: Ticket) -> str:
    return ticket.customer.language or ticket.merchant.default_language


def notify_customer(ticket: Ticket, template: str, extra: dict | None = None) -> None:
    customer = ticket.customer
    context = {
        "customer_name": customer.name,
        "merchant_name": ticket.merchant.name,
        "ticket_number": ticket.number,
        "ticket_subject": ticket.subject,
        "portal_url": settings.SITE_URL + reverse("portal:home", kwargs={"merchant_slug": ticket.merchant.slug}),
        **(extra or {}),
    }
    if customer.email:
        channel, recipient = Notification.Channel.EMAIL, customer.email
    elif customer.phone:
        channel, recipient = Notification.Channel.SMS, customer.phone
    else:
        return
    notification_queue(
        merchant=ticket.merchant,
        channel=channel,
        recipient=recipient,
        template=template,
        context=context,
        language=customer_language(ticket),
        ticket=ticket,
    )


def notify_staff(ticket: Ticket, user: User | None, template: str, extra: dict | None = None) -> None:
    if user is None or not user.email:
        return
    notification_queue(
        merchant=ticket.merchant,
        channel=Notification.Channel.EMAIL,
        recipient=user.email,
        recipient_user=user,
        template=template,
        context={
            "ticket_number": ticket.number,
            "ticket_subject": ticket.subject,
            "merchant_name": ticket.merchant.name,
            "ticket_url": settings.SITE_URL + reverse("dashboard:ticket", kwargs={"number": ticket.number}),
            **(extra or {}),
        },
        language=user.language or ticket.merchant.default_language,
        ticket=ticket,
    )
