from .base import MerchantOwnedModel, TimeStampedModel
from .calendars import BusinessCalendar, CalendarDay, Weekday, WorkingHours
from .commerce import Customer, Order, OrderLine, Product
from .integrations import IdempotencyRecord, WebhookEndpoint
from .notifications import Notification, PortalChallenge
from .tenancy import ApiKey, Membership, Merchant, Store, User
from .timers import Deadline, DeadlinePause

__all__ = [
    "ApiKey",
    "BusinessCalendar",
    "CalendarDay",
    "Customer",
    "Deadline",
    "DeadlinePause",
    "IdempotencyRecord",
    "Membership",
    "Merchant",
    "MerchantOwnedModel",
    "Notification",
    "Order",
    "OrderLine",
    "PortalChallenge",
    "Product",
    "Store",
    "TimeStampedModel",
    "User",
    "WebhookEndpoint",
    "Weekday",
    "WorkingHours",
]
