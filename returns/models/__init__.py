"""Returns, exchanges and refund-only claims: the merchant's policy and each return request.

A return request hangs one-to-one off its Ticket and moves the ticket's generic status in the same
transaction. The terms that applied when it was submitted are snapshotted onto it, so a later edit
of the policy never changes what a customer was promised.
"""

from .logistics import (
    CLAIM_TRANSITIONS,
    CarrierClaim,
    ClaimState,
    Disposition,
    ItemGrade,
    ReturnLineInspection,
    ReturnShipment,
    ShipmentDirection,
    ShippingMethod,
)
from .policy import Resolution, Responsibility, ReturnPolicy, ReturnReason, ReturnRule, ReturnShippingPayer
from .refunds import (
    ExecutionState,
    Refund,
    RefundAdapterName,
    RefundExecution,
    RefundGateway,
    RefundLine,
    RefundMethod,
    RefundState,
    ReplacementShipment,
    ReplacementState,
    StoreCreditAccount,
    StoreCreditEntry,
)
from .requests import (
    DIFFERENCE_NOT_PAYABLE_STATUSES,
    HOLDING_STATUSES,
    QUICK_REFUND_STATUSES,
    RETURN_TRANSITIONS,
    SETTLE_ON_APPROVAL,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)

__all__ = [
    "CLAIM_TRANSITIONS",
    "DIFFERENCE_NOT_PAYABLE_STATUSES",
    "HOLDING_STATUSES",
    "QUICK_REFUND_STATUSES",
    "RETURN_TRANSITIONS",
    "SETTLE_ON_APPROVAL",
    "CarrierClaim",
    "ClaimState",
    "Disposition",
    "ExecutionState",
    "ItemGrade",
    "Refund",
    "RefundAdapterName",
    "RefundExecution",
    "RefundGateway",
    "RefundLine",
    "RefundMethod",
    "RefundState",
    "ReplacementShipment",
    "ReplacementState",
    "Resolution",
    "Responsibility",
    "ReturnLine",
    "ReturnLineInspection",
    "ReturnPolicy",
    "ReturnReason",
    "ReturnRequest",
    "ReturnRule",
    "ReturnShipment",
    "ReturnShippingPayer",
    "ReturnStatus",
    "ShipmentDirection",
    "ShippingMethod",
    "StoreCreditAccount",
    "StoreCreditEntry",
]
