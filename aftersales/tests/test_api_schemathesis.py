"""The API walked from its own OpenAPI schema with schemathesis: a bounded number of examples per
operation, a fixed seed, real ids of a seeded merchant mixed into every other case. Any 5xx, or an
answer that breaks the schema, fails the test.

Run alone with ``pytest aftersales/tests/test_api_schemathesis.py -p no:randomly -s`` to see the
tally (operations, cases, 5xx, schema violations) printed at the end.
"""

import json
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, api_key_for
from returns.models import ReturnStatus
from returns.tests.builders import drive, make_world, submit
from tickets.tests.factories import TicketFactory

EXAMPLES_PER_OPERATION = 30
SEED = 20261206
TALLY: Counter = Counter()


def api_schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = WSGIHandler()
    return loaded


# Built at collection (one test per operation), from the generator rather than over HTTP.
schema = api_schema()


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """As Django's test client does: the end of a request must not close the connection that
    holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(wsgi_keeps_the_test_connection):
    """A merchant with a store, an order of two lines, a support ticket, a return in transit and
    another received, a staff member, and an API key: the ids a real client would send."""
    world = make_world(quantities=(3, 2))
    world.policy.rules.create(
        position=1, name="All", window_days=30, allowed_resolutions=["refund", "exchange", "store_credit"]
    )
    travelling = drive(world, submit(world, quantities=[1, 0]), ReturnStatus.IN_TRANSIT)
    received = drive(world, submit(world, quantities=[1, 1], resolution="exchange"), ReturnStatus.RECEIVED)
    ticket = TicketFactory(merchant=world.merchant, customer=world.customer, order=world.order)
    agent = MembershipFactory(merchant=world.merchant, role=Membership.Role.AGENT).user
    _key, secret = api_key_for(world.merchant)
    store = world.order.store
    return {
        "headers": {"Authorization": f"Api-Key {secret}"},
        "path": {
            "number": [ticket.number, travelling.ticket.number, received.ticket.number],
            "order_id": [world.order.pk],
            "customer_id": [world.customer.pk],
            "product_id": [],
            "claim_id": [],
            "refund_id": [],
        },
        "body": {
            "order": world.order.pk,
            "store": store.pk if store else None,
            "customer": world.customer.pk,
            "order_line": world.lines[0].pk,
            "return_line": received.lines.order_by("pk").first().pk,
            "assignee": agent.pk,
            "reason": "changed_mind",
        },
    }


def mix_in_real_ids(case, seeded, turn: int) -> None:
    """Every other case asks about rows that exist, so the walk gets past the 404s."""
    if turn % 2:
        return
    for name in list(case.path_parameters or {}):
        choices = seeded["path"].get(name) or []
        if choices:
            case.path_parameters[name] = choices[turn // 2 % len(choices)]
    if isinstance(case.body, dict):
        for key, value in seeded["body"].items():
            if key in case.body and value is not None:
                case.body[key] = value
        lines = case.body.get("lines")
        for line in lines if isinstance(lines, list) else []:
            if isinstance(line, dict):
                for key in ("order_line", "return_line"):
                    if key in line:
                        line[key] = seeded["body"][key]


# One test per operation, parametrized by pytest itself: schemathesis's own lazy parametrization is
# collected as a single item under pytest-xdist, which would walk one operation and pass.
OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_api_answers_every_generated_case_within_its_schema_and_never_with_a_5xx(label, seeded):
    operation = OPERATIONS[label]

    # Valid requests and invalid ones (wrong types, nulls, missing fields): both must get no 5xx.
    @hypothesis.given(
        case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)
    )
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        database=None,
    )
    @hypothesis.seed(SEED)
    def walk(case):
        TALLY["cases"] += 1
        TALLY[f"operation {case.operation.label}"] = 1
        mix_in_real_ids(case, seeded, TALLY["cases"])
        response = case.call(headers=seeded["headers"])
        TALLY[f"status {response.status_code // 100}xx"] += 1
        if response.status_code < 500:
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except Exception:
                TALLY["schema violations"] += 1
                raise
        case.validate_response(response, checks=[not_a_server_error])

    walk()
    assert TALLY[f"operation {label}"] == 1


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    operations = sum(1 for key in TALLY if key.startswith("operation "))
    print(  # noqa: T201 -- the tally, seen with -s
        f"\nschemathesis: {operations} operations, {TALLY['cases']} cases, "
        f"{TALLY['schema violations']} schema violations; answers: "
        + ", ".join(f"{key.split()[1]} {TALLY[key]}" for key in sorted(TALLY) if key.startswith("status "))
    )
