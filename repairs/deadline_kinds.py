"""The kinds of a repair's deadlines and their labels: plain names the selectors and pages read."""

from django.utils.translation import gettext_lazy

QUOTE_EXPIRY = "repair.quote_expiry"
AUTO_CLOSE = "repair.auto_close"
REPAIR_TIMER_KINDS = (QUOTE_EXPIRY, AUTO_CLOSE)
CUSTOMER_FACING_KINDS = (QUOTE_EXPIRY, AUTO_CLOSE)

TIMER_LABELS = {
    QUOTE_EXPIRY: gettext_lazy("Quote valid until"),
    AUTO_CLOSE: gettext_lazy("Closes by itself on"),
}
