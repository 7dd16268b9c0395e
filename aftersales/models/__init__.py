from .base import MerchantOwnedModel, TimeStampedModel
from .calendars import BusinessCalendar, CalendarDay, Weekday, WorkingHours
from .commerce import Customer, Order, OrderLine, Product
from .exports import EXPORT_TRANSITIONS, ExportJob, ExportState
from .integrations import IdempotencyRecord, WebhookEndpoint
from .notifications import Notification, PortalChallenge
from .tenancy import ApiKey, Membership, Merchant, Store, User
from .timers import Deadline, DeadlinePause

__all__ = [
    "EXPORT_TRANSITIONS",
    "ApiKey",
    "BusinessCalendar",
    "CalendarDay",
    "Customer",
    "Deadline",
    "DeadlinePause",
    "ExportJob",
    "ExportState",
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
