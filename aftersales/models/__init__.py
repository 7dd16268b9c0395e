from .base import MerchantOwnedModel, TimeStampedModel
from .commerce import Customer, Order, OrderLine, Product
from .notifications import Notification, PortalChallenge
from .tenancy import ApiKey, Membership, Merchant, Store, User

__all__ = [
    "ApiKey",
    "Customer",
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
]
