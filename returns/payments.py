"""Payment adapters: how a granted refund is paid out.

An adapter takes a ``RefundExecution`` and answers with an ``AdapterResult``; it writes nothing to
the database. The services call it outside any transaction (no lock is held across a network
call) and record the answer afterwards.

- ``ManualAdapter``: staff pay in the shop's back office and confirm it here
  (``refund_confirm_manual``); the execution stays pending until they do.
- ``HttpAdapter``: POSTs the refund as JSON to the merchant's endpoint with an
  ``Idempotency-Key`` header, the same key on every retry, so the provider pays once.
"""

import http.client
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from aftersales.models.integrations import ADDRESS_KINDS
from aftersales.outbound import AddressRefused, GuardedHTTPHandler, GuardedHTTPSHandler, check_url
from returns.models import ExecutionState, RefundAdapterName, RefundExecution, RefundGateway

logger = logging.getLogger("returns.payments")

MAX_RESPONSE_BYTES = 64 * 1024
KEPT_BODY_CHARS = 2000
REFERENCE_FIELDS = ("reference", "refund_id", "id")


@dataclass(frozen=True)
class AdapterResult:
    state: str  # an ExecutionState value
    provider_reference: str = ""
    error: str = ""
    response_summary: dict = field(default_factory=dict)

    @classmethod
    def pending(cls) -> "AdapterResult":
        return cls(state=ExecutionState.PENDING)

    @classmethod
    def failed(cls, error: str, response_summary: dict | None = None) -> "AdapterResult":
        return cls(state=ExecutionState.FAILED, error=error, response_summary=response_summary or {})


class RefundAdapter(Protocol):
    @property
    def name(self) -> str: ...

    def refund(self, execution: RefundExecution) -> AdapterResult: ...


class ManualAdapter:
    """Nothing to call: the payout is made by a person, who confirms it afterwards."""

    name = RefundAdapterName.MANUAL

    def refund(self, execution: RefundExecution) -> AdapterResult:
        return AdapterResult.pending()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET elsewhere (or to an address we never chose):
    # a 3xx is an answer like any other non-2xx.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Connects only to public addresses unless OUTBOUND_ALLOW_PRIVATE_ADDRESSES (aftersales.outbound): a
# refused address fails the call before anything is sent, so a retry after fixing it is safe.
_opener = urllib.request.build_opener(_NoRedirects, GuardedHTTPHandler, GuardedHTTPSHandler)
# What a failed call records when the request never left: the refund is known unpaid.
NOT_SENT = {"status": None, "sent": False}


class HttpAdapter:
    """POST ``{"idempotency_key", ...request_summary}`` to the merchant's refund endpoint.

    2xx is success, with the provider's reference taken from ``reference`` (or ``refund_id``,
    ``id``) of a JSON answer; anything else — another status, a timeout, a refused connection —
    is a failure whose message is kept for staff.
    """

    name = RefundAdapterName.HTTP

    def __init__(self, gateway: RefundGateway | None):
        self.gateway = gateway

    def refund(self, execution: RefundExecution) -> AdapterResult:
        gateway = self.gateway
        url = gateway.endpoint_url if gateway else ""
        if gateway is None or urlsplit(url).scheme not in ("http", "https"):
            return AdapterResult.failed(_("No refund endpoint is configured for this merchant."), {**NOT_SENT})
        try:
            # Here as well as at connect time: behind a proxy the connection goes to the proxy.
            check_url(url)
        except AddressRefused as refused:
            return AdapterResult.failed(
                _("The refund endpoint is not a public address (%(address)s, %(kind)s); refunds are not sent there.")
                % {"address": refused.address, "kind": ADDRESS_KINDS[refused.kind]},
                {**NOT_SENT},
            )
        except (OSError, ValueError) as error:
            return AdapterResult.failed(
                _("The refund endpoint could not be reached: %(reason)s") % {"reason": error}, {**NOT_SENT}
            )
        body = json.dumps(
            {"idempotency_key": execution.idempotency_key, **execution.request_summary}, sort_keys=True
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": execution.idempotency_key,
            "User-Agent": "Aftersales refunds",
        }
        if gateway.api_token:
            headers["Authorization"] = f"Bearer {gateway.api_token}"
        # The scheme was checked to be http(s) above, and _opener has only the guarded HTTP(S) handlers.
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with _opener.open(request, timeout=gateway.timeout_seconds) as response:
                status, text = response.status, _read(response)
        except urllib.error.HTTPError as error:
            status, text = error.code, _read(error)
        except (OSError, http.client.HTTPException, ValueError) as error:
            reason = getattr(error, "reason", error)
            logger.warning("refund %s: endpoint unreachable: %s", execution.idempotency_key, reason)
            if isinstance(reason, AddressRefused):
                message = _(
                    "The refund endpoint is not a public address (%(address)s, %(kind)s); refunds are not sent there."
                ) % {"address": reason.address, "kind": ADDRESS_KINDS[reason.kind]}
            else:
                message = _("The refund endpoint could not be reached: %(reason)s") % {"reason": reason}
            # Refused before a byte was sent: known unpaid. Anything later (a timeout, a reset) may
            # have reached the provider.
            sent = not isinstance(reason, ConnectionRefusedError | AddressRefused)
            return AdapterResult.failed(message, {"status": None, "sent": None if sent else False})
        answer = _json(text)
        summary = {"status": status, "body": text[:KEPT_BODY_CHARS]}
        if 200 <= status < 300:
            reference = next((str(answer[key]) for key in REFERENCE_FIELDS if answer.get(key)), "")
            return AdapterResult(
                state=ExecutionState.SUCCEEDED, provider_reference=reference[:200], response_summary=summary
            )
        return AdapterResult.failed(
            _("The refund endpoint answered %(status)s: %(message)s")
            % {"status": status, "message": _message(answer, text)},
            summary,
        )


def _read(response) -> str:
    try:
        return response.read(MAX_RESPONSE_BYTES).decode("utf-8", errors="replace")
    except (OSError, AttributeError):
        return ""


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: an endpoint answering with deeply nested JSON is not an answer.
        return {}
    return value if isinstance(value, dict) else {}


def _message(answer: dict, text: str) -> str:
    error = answer.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("code")
    message = error or answer.get("message") or answer.get("detail") or text.strip() or "—"
    return str(message)[:500]


def adapter_for(execution: RefundExecution) -> RefundAdapter:
    """The adapter named on the execution (so a retry pays the way the first attempt did)."""
    if execution.adapter == RefundAdapterName.HTTP:
        return HttpAdapter(RefundGateway.objects.filter(merchant_id=execution.merchant_id).first())
    return ManualAdapter()


def adapter_name_for(merchant_id: int) -> str:
    """Which adapter a new execution of this merchant uses: its gateway's, or manual."""
    gateway = RefundGateway.objects.filter(merchant_id=merchant_id).only("adapter").first()
    return gateway.adapter if gateway else RefundAdapterName.MANUAL
