"""Every page a GET reaches on the dashboard and the portal, walked with parameters out of range
(days at the ends of the calendar, cursors with times PostgreSQL rejects, huge numbers, NUL bytes):
a page may ignore a value or show a form error, never answer 500."""

import base64
import json

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aftersales.models import Membership
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import MembershipFactory
from returns.models import ReturnStatus
from returns.tests.builders import drive, make_world, submit

pytestmark = pytest.mark.django_db


def cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


FAR = "9999-12-31T23:59:59-05:00"
EARLY = "0001-01-01T00:00:00+05:00"
BAD_VALUES = [
    "9999-12-31",
    "0001-01-01",
    FAR,
    EARLY,
    "2024-01-16T03:53:05-20:26",
    "-1",
    "99999999999999999999",
    "a\x00b",
    "x" * 3000,
    cursor(["attention", 20, FAR, 1]),
    cursor(["deadline", EARLY, 1]),
    cursor(["returns", FAR, 1]),
    cursor(["claims", 0, FAR, 1]),
    cursor([FAR, 1]),
    cursor(["attention", 99999999999999999999, "2024-01-01T00:00:00+00:00", 99999999999999999999]),
    cursor(["returns", "2024-01-01T00:00:00+00:00", -99999999999999999999]),
    base64.urlsafe_b64encode(b"[" * 5000).decode(),
]
PARAMETERS = [
    "start",
    "end",
    "after",
    "before",
    "cursor",
    "q",
    "status",
    "kind",
    "assignee",
    "priority",
    "sort",
    "resolution",
    "state",
    "order",
    "page",
]


# Every parameter at once with each bad value, then the pairs a page reads together.
QUERIES = [
    *(dict.fromkeys(PARAMETERS, value) for value in BAD_VALUES),
    *({"start": value, "end": value} for value in ["9999-12-31", "0001-01-01", "9999-12-30"]),
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"start": "9999-12-01", "end": "9999-12-31"},
    *({"sort": "deadline", key: value} for key in ("after", "before") for value in BAD_VALUES[9:]),
]


def get_patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from get_patterns(entry, prefix + (entry.namespace + ":" if entry.namespace else ""))
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name, entry


def url_for(name: str, pattern: URLPattern, ids: dict) -> str | None:
    converters = pattern.pattern.converters
    kwargs = {}
    for key in converters:
        if key not in ids:
            return None
        kwargs[key] = ids[key]
    return reverse(name, kwargs=kwargs)


def walk(client: Client, namespace: str, ids: dict) -> tuple[int, list[tuple[str, str, int]]]:
    failures = []
    pages = 0
    for name, pattern in get_patterns(get_resolver()):
        if not name.startswith(namespace + ":"):
            continue
        url = url_for(name, pattern, ids)
        if url is None:
            continue
        pages += 1
        for query in QUERIES:
            response = client.get(url, query)
            if response.status_code >= 500:
                failures.append((url, str(query)[:80], response.status_code))
            list(get_messages(response.wsgi_request))
    return pages, failures


@pytest.fixture
def world():
    world = make_world(quantities=(2, 1))
    world.policy.rules.create(position=1, name="All", window_days=30, allowed_resolutions=["refund", "exchange"])
    return world


def test_every_dashboard_page_walks_out_of_range_parameters_without_a_500(world):
    return_request = drive(world, submit(world, quantities=[1, 0]), ReturnStatus.RECEIVED)
    supervisor = MembershipFactory(merchant=world.merchant, role=Membership.Role.MERCHANT_ADMIN).user
    client = Client(raise_request_exception=False)
    client.force_login(supervisor)
    ids = {"number": return_request.ticket.number}

    pages, failures = walk(client, "dashboard", ids)

    assert pages >= 8
    assert failures == []


def test_every_portal_page_walks_out_of_range_parameters_without_a_500(world, django_capture_on_commit_callbacks):
    return_request = submit(world, quantities=[1, 0])
    client = Client(raise_request_exception=False)
    sign_in(client, django_capture_on_commit_callbacks, world.order)
    ids = {
        "merchant_slug": world.merchant.slug,
        "order_id": world.order.pk,
        "number": return_request.ticket.number,
    }

    pages, failures = walk(client, "portal", ids)

    assert pages >= 6
    assert failures == []


@pytest.mark.parametrize("name", ["dashboard:sla_report", "dashboard:returns_report"])
def test_a_report_period_at_the_end_of_the_calendar_is_a_form_error(world, name):
    supervisor = MembershipFactory(merchant=world.merchant, role=Membership.Role.SUPERVISOR).user
    client = Client(raise_request_exception=False)
    client.force_login(supervisor)

    response = client.get(reverse(name), {"start": "9999-12-30", "end": "9999-12-31"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 2999-12-31." in response.content.decode()
