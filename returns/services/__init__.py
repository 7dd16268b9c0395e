"""Every write to returns, one module per concern; the names are re-exported here."""

from .requests import (
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_reject,
)

__all__ = [
    "return_request_approve",
    "return_request_cancel",
    "return_request_create",
    "return_request_reject",
]
