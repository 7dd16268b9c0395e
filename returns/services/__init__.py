"""Every write to returns, one module per family of use cases; the names are re-exported here.

- ``requests``: create, the review a flagged request waits for, approve, reject, revise,
  escalate, cancel, expire, a rejection made final
- ``shipping``: the customer's shipping choice, pickup, tracking, rejected units sent back
- ``receiving``: receive (by return or by tracking number) and inspect
- ``settlement``: settle as requested, by staff or on its own; accept uninspected
- ``refunds``: grant, execute (and retry), confirm a manual payout, void; the quick refund
- ``order_refunds``: a refund against an order without a return (complaint compensation)
- ``store_credit``: grant and spend
- ``exchanges``: ship the replacement, the price difference both ways, the surplus refund
- ``claims``: a parcel declared lost and the carrier claim it opens
- ``bulk``: approve or receive many returns at once
- ``rules``: the decisions made without a person (risk flag, quick refund), reading only

``_transitions`` and ``_settling`` hold what the families share inside their transactions.
"""

from .bulk import BulkOutcome, return_requests_bulk_approve, return_requests_bulk_receive
from .claims import (
    REFERENCE_MAX_LENGTH,
    carrier_claim_reject,
    carrier_claim_settle,
    carrier_claim_withdraw,
    return_parcel_declare_lost,
)
from .exchanges import (
    exchange_difference_confirm_paid,
    exchange_difference_refund_pay,
    exchange_ship,
    exchange_surplus_refund_pay,
    exchange_surplus_run,
)
from .order_refunds import (
    order_refund_grant,
    order_refund_pay_run,
    partial_refund_compensation_pay,
    shipping_refund_compensation_pay,
)
from .receiving import (
    LineInspection,
    return_request_inspect,
    return_request_receive,
    return_request_receive_by_tracking,
)
from .refunds import (
    quick_refund_run,
    refund_confirm_manual,
    refund_execute,
    refund_grant,
    refund_void,
    refunds_redrive_stalled,
)
from .requests import (
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_escalate,
    return_request_expire,
    return_request_reject,
    return_request_rejection_final,
    return_request_revise,
)
from .rules import policy_for, quick_refund_eligible, risk_review_reasons
from .settlement import return_request_settle, return_request_settle_uninspected, settlement_run
from .shipping import (
    MAX_STORE_LENGTH,
    MAX_TRACKING_LENGTH,
    return_pickup_book,
    return_rejected_units_send,
    return_ship_remind,
    return_shipping_choose,
    return_tracking_add,
)
from .store_credit import store_credit_grant, store_credit_spend

__all__ = [
    "MAX_STORE_LENGTH",
    "MAX_TRACKING_LENGTH",
    "REFERENCE_MAX_LENGTH",
    "BulkOutcome",
    "LineInspection",
    "carrier_claim_reject",
    "carrier_claim_settle",
    "carrier_claim_withdraw",
    "exchange_difference_confirm_paid",
    "exchange_difference_refund_pay",
    "exchange_ship",
    "exchange_surplus_refund_pay",
    "exchange_surplus_run",
    "order_refund_grant",
    "order_refund_pay_run",
    "partial_refund_compensation_pay",
    "policy_for",
    "quick_refund_eligible",
    "quick_refund_run",
    "refund_confirm_manual",
    "refund_execute",
    "refund_grant",
    "refund_void",
    "refunds_redrive_stalled",
    "return_parcel_declare_lost",
    "return_pickup_book",
    "return_rejected_units_send",
    "return_request_approve",
    "return_request_cancel",
    "return_request_create",
    "return_request_escalate",
    "return_request_expire",
    "return_request_inspect",
    "return_request_receive",
    "return_request_receive_by_tracking",
    "return_request_reject",
    "return_request_rejection_final",
    "return_request_revise",
    "return_request_settle",
    "return_request_settle_uninspected",
    "return_requests_bulk_approve",
    "return_requests_bulk_receive",
    "return_ship_remind",
    "return_shipping_choose",
    "return_tracking_add",
    "risk_review_reasons",
    "settlement_run",
    "shipping_refund_compensation_pay",
    "store_credit_grant",
    "store_credit_spend",
]
