"""``Idempotency-Key`` for API writes that move money: a retried request gets the first answer.

The first request under a key runs and its answer (status and body, refusals included) is stored
in an ``IdempotencyRecord``; a retry with the same request gets that answer again, byte for byte,
with ``Idempotent-Replayed: true``; the same key on another request is refused with 422
``idempotency_key_reused``. Retries in flight at the same time wait for the first one, behind a
PostgreSQL advisory lock on (merchant, key) held for the whole call — a session lock, because a
payment call is made with no transaction open — and get 409 ``idempotency_request_in_progress``
if it takes longer than ``WAIT_SECONDS``. No retry ever runs the effect a second time: the effects
are keyed by names derived from the key (``IdempotentCall.derived``), so a call whose worker died
after its effect committed but before its answer was stored is completed, not repeated.
"""

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from aftersales.api.exception_handlers import exception_handler
from aftersales.exceptions import ApplicationError
from aftersales.models import IdempotencyRecord, Merchant

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# How long a retry waits for the same key's first request before it is told to come back.
WAIT_SECONDS = 15
POLL_SECONDS = 0.02


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was already used for a different request.")


class IdempotencyRequestInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_request_in_progress"
    default_detail = _("A request with this Idempotency-Key is still in progress; retry shortly.")


class InvalidIdempotencyKey(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_idempotency_key"
    default_detail = _("The Idempotency-Key must be 1 to 255 printable characters.")


def request_idempotency_key(request) -> str:
    """The request's key, or "" when it sends none (the call is then not replayable)."""
    key = request.headers.get(HEADER)
    if key is None:
        return ""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey
    return key


def request_hash(endpoint: str, body) -> str:
    canonical = json.dumps({"endpoint": endpoint, "body": body}, cls=DjangoJSONEncoder, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class IdempotentCall:
    """What ``perform`` knows of the key it runs under."""

    merchant: Merchant
    key: str
    endpoint: str
    request_hash: str
    held: bool = False

    def derived(self, purpose: str) -> str:
        """A stable name for one effect of this call (a grant key, a payment's idempotency key):
        the same for every retry, different for every merchant, key and purpose; "" without a key."""
        if not self.key:
            return ""
        digest = hashlib.sha256(f"{self.merchant.pk}:{self.key}".encode()).hexdigest()[:40]
        return f"{purpose}:{digest}"

    def hold(self) -> None:
        """Write the record without an answer, in the caller's transaction: call it in the same
        transaction as an effect that is finished outside it (a payment call)."""
        if self.key and not self.held:
            _store(self, None, "")
            self.held = True

    def answer(self, status_code: int, body) -> Response:
        """Store the answer (in the caller's transaction, when there is one) and return it."""
        text = JSONRenderer().render(body).decode()
        if self.key:
            _store(self, status_code, text)
        # Parsed back from the stored text, so this answer and every replay render the same bytes.
        return Response(json.loads(text), status=status_code)


def _store(call: IdempotentCall, status_code: int | None, body: str) -> None:
    IdempotencyRecord.objects.update_or_create(
        merchant=call.merchant,
        key=call.key,
        defaults={
            "endpoint": call.endpoint,
            "request_hash": call.request_hash,
            "response_status": status_code,
            "response_body": body,
        },
    )


@contextmanager
def _key_lock(merchant_id: int, key: str):
    """Serialise the calls under one (merchant, key). Session-level, so it spans the transactions
    of a call and the payment call between them; released however the call ends (a dead worker's
    connection releases it too)."""
    if not key:
        yield
        return
    digest = hashlib.sha256(f"idempotency:{merchant_id}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    give_up_at = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= give_up_at:
                raise IdempotencyRequestInProgress
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def idempotent(
    request, *, merchant: Merchant, endpoint: str, perform: Callable[[IdempotentCall], Response]
) -> Response:
    """Run ``perform`` once per (merchant, Idempotency-Key); replay its answer to every retry.

    ``perform`` returns ``call.answer(status, body)``, inside the transaction of its effect where
    it can. A domain refusal it raises is the call's answer too, stored like any other.
    """
    key = request_idempotency_key(request)
    call = IdempotentCall(
        merchant=merchant, key=key, endpoint=endpoint, request_hash=request_hash(endpoint, request.data)
    )
    with _key_lock(merchant.pk, key):
        if key:
            record = IdempotencyRecord.objects.filter(merchant=merchant, key=key).first()
            if record is not None:
                if record.request_hash != call.request_hash:
                    raise IdempotencyKeyReused
                if record.response_status is not None:
                    return Response(
                        json.loads(record.response_body),
                        status=record.response_status,
                        headers={REPLAYED_HEADER: "true"},
                    )
                # Held but never answered: the first call died after its effect; finish it.
                call.held = True
        try:
            return perform(call)
        except ApplicationError as refusal:
            refused = exception_handler(refusal, {})
            with transaction.atomic():
                return call.answer(refused.status_code, refused.data)
