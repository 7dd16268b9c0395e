"""Every page and API answer of the demo, walked: no server error anywhere.

The demo is seeded as ``make run`` seeds it (smaller), then every URL name of the dashboard, the
portal, the API and the project is requested with the demo's ids (detail pages once per status),
every report with its default period, every admin changelist, add page and a change page of each
model. GET only: an action URL answers 405 to it, which is not what is checked; a 500 is.
"""

import io
import re
import time
from collections import Counter

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from aftersales.models import Customer, Membership, Merchant, Order, OrderLine, Product
from aftersales.notifications.links import case_link_token
from aftersales.portal import PORTAL_SESSION_KEY
from feedback.links import survey_token
from feedback.models import FollowUp, FollowUpRule, QualityAlert, RecoveryCase, Survey
from repairs.models import Part, PartStock, RepairOrder, TechnicianProfile, TechnicianTimeOff, Visit
from returns.models import CarrierClaim, Refund, ReturnRequest
from tickets.models import Article, Attachment, Compensation, Macro, RegulatorCase, Ticket, TicketLink

pytestmark = pytest.mark.django_db

# Names whose page needs nothing of the demo, or that end the session the walk is using.
SKIPPED = {"dashboard:logout", "portal:logout"}


def _case_number(refund: Refund) -> str:
    """The case a refund is shown on: its return's, or the case of a refund without a return."""
    case = refund.return_request.ticket if refund.return_request is not None else refund.ticket
    return case.number if case is not None else ""


def _patterns(resolver=None, namespace=""):
    """(full name, keyword argument names) of every named URL, admin's aside."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            kwargs = set(pattern.pattern.converters) | set(re.findall(r"\(\?P<(\w+)>", str(pattern.pattern)))
            yield f"{namespace}{pattern.name}", kwargs


def _one_per(queryset, field: str) -> list:
    seen, chosen = set(), []
    for row in queryset.order_by("pk"):
        value = getattr(row, field)
        if value not in seen:
            seen.add(value)
            chosen.append(row)
    return chosen


def _first(model, merchant: Merchant, *related: str) -> list:
    return list(model.objects.filter(merchant=merchant).select_related(*related).order_by("pk")[:1])


def _arguments(merchant: Merchant) -> dict[frozenset, list[dict]]:
    """The keyword arguments to request each kind of URL with: one set per status of its object."""
    tickets = _one_per(Ticket.objects.filter(merchant=merchant), "status")
    returns = _one_per(ReturnRequest.objects.filter(merchant=merchant).select_related("ticket"), "status")
    numbers = [ticket.number for ticket in tickets] + [ret.ticket.number for ret in returns]
    # The demo has no carrier claim: their actions are requested on the first return, with an id
    # that is not there (they answer POST only all the same).
    claims = list(CarrierClaim.objects.filter(merchant=merchant).select_related("return_request__ticket")) or [
        CarrierClaim(pk=0, return_request=returns[0])
    ]
    refunds = list(Refund.objects.filter(merchant=merchant).select_related("return_request__ticket", "ticket"))
    order_ids = list(
        dict.fromkeys([ret.order_id for ret in returns] + [ticket.order_id for ticket in tickets if ticket.order_id])
    )
    attachments = list(Attachment.objects.filter(merchant=merchant).order_by("pk")[:3])
    slug = {"merchant_slug": merchant.slug}
    surveys = _one_per(Survey.objects.filter(merchant=merchant), "status")
    followups = _one_per(FollowUp.objects.filter(merchant=merchant), "status")
    rules = list(FollowUpRule.objects.filter(merchant=merchant).order_by("pk")[:1])
    # Recovery cases have one action (POST only): requested with an id that is not there when the
    # demo has none.
    recoveries = list(RecoveryCase.objects.filter(merchant=merchant).order_by("pk")[:1]) or [RecoveryCase(pk=0)]
    # The demo has knowledge-base articles, a compensation, a regulator case, a ticket link,
    # macros and technician visits: their pages and actions are requested with those rows (a
    # missing one fails the walk here). It has no quality alert yet: that page is requested with
    # an id that is not there (a 404).
    article_ids = list(Article.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True)[:2])
    compensations = _first(Compensation, merchant, "complaint__ticket")
    regulator_cases = _first(RegulatorCase, merchant, "complaint__ticket")
    ticket_links = _first(TicketLink, merchant, "source")
    macros = _first(Macro, merchant)
    assert article_ids, "the demo has no knowledge-base article"
    assert compensations, "the demo has no compensation"
    assert regulator_cases, "the demo has no regulator case"
    assert ticket_links, "the demo has no ticket link"
    assert macros, "the demo has no macro"
    complaint_number = numbers[0]
    by_number_pk = [
        *({"number": c.complaint.ticket.number, "pk": c.pk} for c in compensations),
        *({"number": r.complaint.ticket.number, "pk": r.pk} for r in regulator_cases),
        *({"number": link.source.number, "pk": link.pk} for link in ticket_links),
        *({"number": complaint_number, "pk": macro.pk} for macro in macros),
    ]
    links = [{"number": link.source.number, "link_id": link.pk} for link in ticket_links]
    visit_ids = list(Visit.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True)[:2])
    assert visit_ids, "the demo has no technician visit"
    repair_numbers = list(RepairOrder.objects.filter(merchant=merchant).values_list("ticket__number", flat=True)[:3])
    staff_ids = list(Membership.objects.filter(merchant=merchant).values_list("user_id", flat=True)[:3])
    line_ids = list(OrderLine.objects.filter(order__merchant=merchant).values_list("pk", flat=True)[:2])
    alert_ids = list(QualityAlert.objects.filter(merchant=merchant).values_list("pk", flat=True)[:1]) or [0]
    # The managers' pages: technicians, their time off (none in the demo: requested with an id
    # that is not there, which must be a 404), parts and stock rows.
    technician_ids = list(TechnicianProfile.objects.filter(merchant=merchant).values_list("pk", flat=True)[:2])
    assert technician_ids, "the demo has no technician"
    time_off_ids = list(
        TechnicianTimeOff.objects.filter(technician__merchant=merchant).values_list("pk", flat=True)[:1]
    ) or [0]
    part_ids = list(Part.objects.filter(merchant=merchant).values_list("pk", flat=True)[:2])
    stock_ids = list(PartStock.objects.filter(merchant=merchant).values_list("pk", flat=True)[:2])
    assert part_ids, "the demo has no parts"
    assert stock_ids, "the demo has no stock"
    today = timezone.localdate().isoformat()
    return {
        frozenset({"merchant_slug", "article_id"}): [{**slug, "article_id": pk} for pk in article_ids],
        frozenset({"article_id"}): [{"article_id": pk} for pk in article_ids],
        frozenset({"merchant_slug", "number", "pk"}): [{**slug, **pair} for pair in by_number_pk],
        frozenset({"number", "pk"}): by_number_pk,
        frozenset({"merchant_slug", "line_id"}): [{**slug, "line_id": pk} for pk in line_ids],
        frozenset({"merchant_slug", "number", "answer"}): [
            {**slug, "number": number, "answer": answer}
            for number in repair_numbers
            for answer in ("approve", "decline")
        ],
        frozenset({"number", "link_id"}): links,
        frozenset({"user_id"}): [{"user_id": pk} for pk in staff_ids],
        frozenset({"visit_id"}): [{"visit_id": pk} for pk in visit_ids],
        frozenset({"visit_id", "step"}): [
            {"visit_id": pk, "step": step} for pk in visit_ids for step in ("on-the-way", "check-in", "diagnosis")
        ],
        frozenset({"number", "action"}): [
            {"number": number, "action": action} for number in repair_numbers for action in ("triage", "diagnose")
        ],
        frozenset({"day"}): [{"day": today}, {"day": "not-a-day"}],
        frozenset({"day", "technician_id"}): [{"day": today, "technician_id": pk} for pk in staff_ids],
        frozenset({"alert_id"}): [{"alert_id": pk} for pk in alert_ids],
        # A background export: the demo has none, so an id that is not there (a 404).
        frozenset({"job_id"}): [{"job_id": 0}],
        frozenset({"technician_id"}): [{"technician_id": pk} for pk in technician_ids],
        frozenset({"technician_id", "time_off_id"}): [
            {"technician_id": pk, "time_off_id": off} for pk in technician_ids for off in time_off_ids
        ],
        frozenset({"part_id"}): [{"part_id": pk} for pk in part_ids],
        frozenset({"stock_id"}): [{"stock_id": pk} for pk in stock_ids],
        frozenset(): [{}],
        frozenset({"merchant_slug"}): [slug],
        frozenset({"number"}): [{"number": number} for number in numbers],
        frozenset({"merchant_slug", "number"}): [{**slug, "number": number} for number in numbers],
        frozenset({"merchant_slug", "order_id"}): [{**slug, "order_id": pk} for pk in order_ids],
        frozenset({"order_id"}): [{"order_id": pk} for pk in order_ids],
        frozenset({"pk"}): [{"pk": attachment.pk} for attachment in attachments],
        frozenset({"merchant_slug", "pk"}): [{**slug, "pk": attachment.pk} for attachment in attachments],
        frozenset({"customer_id"}): [{"customer_id": Customer.objects.filter(merchant=merchant).earliest("pk").pk}],
        frozenset({"product_id"}): [{"product_id": Product.objects.filter(merchant=merchant).earliest("pk").pk}],
        frozenset({"claim_id"}): [{"claim_id": claim.pk} for claim in claims],
        frozenset({"number", "claim_id"}): [
            {"number": claim.return_request.ticket.number, "claim_id": claim.pk} for claim in claims
        ],
        # The inbound mail webhook: POST only; a token no mailbox has.
        frozenset({"token"}): [{"token": "no-such-mailbox"}],
        frozenset({"number", "refund_id"}): [
            {
                "number": _case_number(refund),
                "refund_id": refund.pk,
            }
            for refund in refunds
        ],
        # A survey's signed link and the signed link to a case that messages to customers carry.
        frozenset({"merchant_slug", "token"}): [
            *({**slug, "token": survey_token(survey_id=survey.pk, nonce=str(survey.nonce))} for survey in surveys),
            *(
                {**slug, "token": case_link_token(ticket.pk)}
                for ticket in Ticket.objects.filter(merchant=merchant, order__isnull=False).order_by("pk")[:3]
            ),
        ],
        frozenset({"followup_id"}): [{"followup_id": followup.pk} for followup in followups],
        frozenset({"rule_id"}): [{"rule_id": rule.pk} for rule in rules],
        frozenset({"recovery_id"}): [{"recovery_id": recovery.pk} for recovery in recoveries],
    }


def _portal_client(merchant: Merchant) -> Client:
    """A browser that has proved every order of the demo merchant (as the portal's code does)."""
    client = Client(raise_request_exception=False)
    session = client.session
    session[PORTAL_SESSION_KEY] = {
        str(merchant.pk): {
            "order_ids": list(Order.objects.filter(merchant=merchant).values_list("pk", flat=True)),
            "customer_ids": list(Customer.objects.filter(merchant=merchant).values_list("pk", flat=True)),
            "expires_at": time.time() + 3600,
        }
    }
    session.save()
    return client


def test_every_page_and_api_answer_of_the_demo_works():
    # Given the demo, seeded as make run seeds it
    out = io.StringIO()
    call_command("seed_demo", "--orders", "60", "--tickets", "60", stdout=out)
    api_key = out.getvalue().split("API key of Demo Outdoor Co.")[1].split()[0]
    merchant = Merchant.objects.get(slug="demo")
    staff = Client(raise_request_exception=False)
    assert staff.login(username="admin", password="aftersales-demo")
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    portal = _portal_client(merchant)
    arguments = _arguments(merchant)
    answers: Counter = Counter()
    server_errors: list[str] = []
    unfilled: list[str] = []

    def get(client: Client, url: str) -> int:
        status = client.get(url).status_code
        answers[status] += 1
        if status >= 500:
            server_errors.append(f"{status} {url}")
        return status

    # When every named URL is requested with the demo's ids
    for name, kwargs in _patterns():
        if name in SKIPPED:
            continue
        client = api if name.startswith("api:") else portal if name.startswith("portal:") else staff
        sets = arguments.get(frozenset(kwargs))
        if not sets:
            unfilled.append(name)
            continue
        for kwargs_set in sets:
            if get(client, reverse(name, kwargs=kwargs_set)) == 405:
                break  # an action: it answers POST only, whatever the object
    # and every admin page: the index, each app, each model's changelist, add page and a change page
    get(staff, reverse("admin:index"))
    for app_label in sorted({model._meta.app_label for model in admin.site._registry}):
        get(staff, reverse("admin:app_list", args=[app_label]))
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        get(staff, reverse("admin:{}_{}_changelist".format(*info)))
        get(staff, reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            get(staff, reverse("admin:{}_{}_change".format(*info), args=[first.pk]))

    # Then no answer is a server error, and every URL had the ids it needs
    # The walk's tally, shown under pytest -s.
    print(f"demo walk: {sum(answers.values())} requests, statuses {dict(sorted(answers.items()))}")  # noqa: T201
    assert server_errors == []
    assert unfilled == [], f"no demo ids to request: {unfilled}"
    # and the reports answer on their default period (the returns report's percentiles included)
    assert staff.get(reverse("dashboard:returns_report")).status_code == 200
    assert staff.get(reverse("dashboard:sla_report")).status_code == 200
    assert answers[200] > 300
