"""A list of ``null`` where the return actions expect line objects is the client's error: a 400
that names the field, and nothing changes."""

import pytest
from rest_framework.test import APIClient

from returns.models import RefundExecution, ReturnStatus
from returns.tests.builders import api_client, drive, every_resolution_world, return_snapshot, submit, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("action", "resolution", "status", "extra"),
    [
        ("return-receive", "refund", ReturnStatus.IN_TRANSIT, {}),
        ("return-refund", "refund", ReturnStatus.RECEIVED, {}),
        ("return-store-credit", "store_credit", ReturnStatus.RECEIVED, {}),
        ("return-exchange", "exchange", ReturnStatus.RECEIVED, {"carrier": "SF Express", "tracking_number": "SF1"}),
        ("return-inspect", "refund", ReturnStatus.RECEIVED, {}),
        ("return-create", "refund", None, {}),
    ],
)
@pytest.mark.parametrize("lines", [[None], [None, None], [1], ["x"]])
def test_a_line_that_is_not_an_object_is_a_400_and_changes_nothing(action, resolution, status, extra, lines):
    world = every_resolution_world()
    return_request = submit(world, quantities=[1, 0], resolution=resolution)
    if status is not None:
        return_request = drive(world, return_request, status)
    client: APIClient = api_client(world.merchant)
    client.raise_request_exception = False
    before = return_snapshot(return_request)
    if action == "return-create":
        target = url("return-list")
        extra = {"order": world.order.pk, "reason": "changed_mind", "resolution": "refund"}
    else:
        target = url(action, return_request)

    response = client.post(target, {"lines": lines, **extra}, format="json")

    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["details"]) == ["lines"]
    assert return_snapshot(return_request) == before
    assert RefundExecution.objects.count() == 0
