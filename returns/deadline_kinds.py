"""The kinds of a return's deadlines and their labels: plain names, so that the selectors and the
pages can read the clocks without importing ``returns.timers``, which starts and stops them."""

from django.utils.translation import gettext_lazy

MERCHANT_RESPONSE = "return.merchant_response"
CUSTOMER_SHIP = "return.customer_ship"
CONFIRM_RECEIPT = "return.confirm_receipt"
REVISE = "return.revise"
RETURN_TIMER_KINDS = (MERCHANT_RESPONSE, CUSTOMER_SHIP, CONFIRM_RECEIPT, REVISE)
CUSTOMER_FACING_KINDS = (CUSTOMER_SHIP, REVISE)

TIMER_LABELS = {
    MERCHANT_RESPONSE: gettext_lazy("Merchant response"),
    CUSTOMER_SHIP: gettext_lazy("Customer ships by"),
    CONFIRM_RECEIPT: gettext_lazy("Inspect by"),
    REVISE: gettext_lazy("Customer may revise until"),
}
