"""Every read of returns that pages, the API and tasks share; the names are re-exported here.
Selectors never import services.

- ``visibility``: which returns and claims a staff member sees
- ``queue``: the staff queue, its filters and pages, a return by number
- ``detail``: one return's lines, photos, history, parcels and clocks; the case page's summary
- ``settlement``: the ledger, the settle form's defaults, the exchange
- ``actions``: which actions a staff member may take on a return now
- ``claims``: carrier claims of lost parcels
- ``portal``: what the customer's portal shows
- ``api``: what the API lists and shows
"""

from returns.roles import may_work_returns

from .actions import SETTLE_STATUSES, ReturnActions, return_actions
from .api import carrier_claims_for_api, reason_by_code, return_for_api, return_policy_of, returns_for_api
from .claims import (
    CLAIMS_PAGE_SIZE,
    ClaimKey,
    ClaimPage,
    ClaimTotals,
    carrier_claim_of_return,
    carrier_claims_page,
    return_carrier_claims,
)
from .detail import (
    HISTORY_LIMIT,
    NOTHING_TO_REFUND,
    RETURN_TICKET_KINDS,
    SHIPPING_STATUSES,
    CustomerReturnHistory,
    LineTermsShown,
    ReturnClock,
    ReturnLineShown,
    customer_return_history,
    return_clocks,
    return_lines_shown,
    return_photos,
    return_shipments,
    review_reasons_shown,
    ticket_return_summary,
)
from .portal import (
    CENT,
    SETTLEMENT_VERBS,
    LineReturnTerms,
    OrderReturnTerms,
    RefundEstimate,
    ReturnParcels,
    exchange_variants_for,
    order_return_terms,
    reason_not_yet_chosen,
    refund_estimates,
    return_parcels,
    return_reasons_active,
    return_request_of_ticket,
    return_steps_public,
    window_last_day,
)
from .queue import (
    RETURNS_PAGE_SIZE,
    STAFF_STATUSES,
    TO_SEND_BACK,
    ReturnFilters,
    ReturnKey,
    ReturnPage,
    rejected_units_unsent,
    return_by_number,
    return_queue,
    return_queue_page,
    returns_numbered,
)
from .settlement import (
    LEDGER_STATUSES,
    ExchangeLineShown,
    ExchangeShown,
    ReturnLedger,
    SettleDefaults,
    SettleLineDefault,
    exchange_shown,
    return_ledger,
    settle_defaults,
)
from .visibility import MONEY_FIELD, RETURNS_ORDERING, carrier_claims_visible_to, returns_visible_to, with_line_totals

__all__ = [
    "CENT",
    "CLAIMS_PAGE_SIZE",
    "HISTORY_LIMIT",
    "LEDGER_STATUSES",
    "MONEY_FIELD",
    "NOTHING_TO_REFUND",
    "RETURNS_ORDERING",
    "RETURNS_PAGE_SIZE",
    "RETURN_TICKET_KINDS",
    "SETTLEMENT_VERBS",
    "SETTLE_STATUSES",
    "SHIPPING_STATUSES",
    "STAFF_STATUSES",
    "TO_SEND_BACK",
    "ClaimKey",
    "ClaimPage",
    "ClaimTotals",
    "CustomerReturnHistory",
    "ExchangeLineShown",
    "ExchangeShown",
    "LineReturnTerms",
    "LineTermsShown",
    "OrderReturnTerms",
    "RefundEstimate",
    "ReturnActions",
    "ReturnClock",
    "ReturnFilters",
    "ReturnKey",
    "ReturnLedger",
    "ReturnLineShown",
    "ReturnPage",
    "ReturnParcels",
    "SettleDefaults",
    "SettleLineDefault",
    "carrier_claim_of_return",
    "carrier_claims_for_api",
    "carrier_claims_page",
    "carrier_claims_visible_to",
    "customer_return_history",
    "exchange_shown",
    "exchange_variants_for",
    "may_work_returns",
    "order_return_terms",
    "reason_by_code",
    "reason_not_yet_chosen",
    "refund_estimates",
    "rejected_units_unsent",
    "return_actions",
    "return_by_number",
    "return_carrier_claims",
    "return_clocks",
    "return_for_api",
    "return_ledger",
    "return_lines_shown",
    "return_parcels",
    "return_photos",
    "return_policy_of",
    "return_queue",
    "return_queue_page",
    "return_reasons_active",
    "return_request_of_ticket",
    "return_shipments",
    "return_steps_public",
    "returns_for_api",
    "returns_numbered",
    "returns_visible_to",
    "review_reasons_shown",
    "settle_defaults",
    "ticket_return_summary",
    "window_last_day",
    "with_line_totals",
]
