import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from aftersales.models import ApiKey, Membership, Merchant, Notification, Order, OrderLine, Store, User
from feedback.demo import ROLLUP_DEMO_DAYS
from feedback.models import RecoveryCase, RecoveryStatus, RollupRefresh, Survey, TicketDailyRollup
from repairs.models import TechnicianProfile, Visit
from returns.models import (
    Refund,
    RefundExecution,
    ReplacementShipment,
    Responsibility,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnRule,
    ReturnStatus,
    StoreCreditAccount,
    StoreCreditEntry,
)
from returns.policy import active_rules, line_terms
from tickets.models import (
    AgentProfile,
    Article,
    ArticleCategory,
    Compensation,
    Macro,
    RegulatorCase,
    RoutingRule,
    SlaPolicy,
    Team,
    TeamAssignment,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketLink,
    TicketNumberCounter,
    TicketStatus,
)

# One worker builds the session's demo (the demo fixture) for all of them.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]

# seed_demo's arguments for the session's demo, in the root conftest.py
DEMO_ARGS = ("--orders", "20", "--tickets", "30")


def seed() -> str:
    """Run ``seed_demo`` at the size of the session's demo (the ``demo`` fixture)."""
    out = io.StringIO()
    call_command("seed_demo", *DEMO_ARGS, stdout=out)
    return out.getvalue()


def test_seed_builds_both_merchants_every_role_and_cases_in_every_status(demo):
    # When the demo is seeded at a small size (once per session: these tests only read it)
    output = demo

    # Then both merchants exist with their stores and staff of every role
    demo = Merchant.objects.get(slug="demo")
    second = Merchant.objects.get(slug="second")
    assert (demo.name, demo.timezone, demo.currency, demo.default_language) == (
        "Demo Outdoor Co.",
        "Asia/Shanghai",
        "CNY",
        "zh-hans",
    )
    assert second.name == "Second Shop"
    assert set(Store.objects.filter(merchant=demo).values_list("platform", flat=True)) == {"tmall", "shopify"}
    assert set(Membership.objects.filter(merchant=demo).values_list("role", flat=True)) == set(Membership.Role.values)
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="agent").check_password("aftersales-demo")
    assert Team.objects.filter(merchant=demo).count() == 2
    assert list(SlaPolicy.objects.filter(merchant=demo).values_list("name", flat=True)) == [
        "VIP customers",
        "Complaints",
        "Standard",
    ]

    # and its history: the orders asked for, cases of every kind in every status, each with a timeline
    assert Order.objects.filter(merchant=demo).count() == 20
    # (the returns and repairs stories add their own cases; feedback's low scores open three
    # recovery cases: a CSAT of 1, one of 2 and an NPS detractor)
    tickets = Ticket.objects.filter(merchant=demo, return_request__isnull=True, repair_order__isnull=True)
    assert tickets.count() == 33
    assert RecoveryCase.objects.filter(merchant=demo).count() == 3
    assert RecoveryCase.objects.filter(merchant=demo, status=RecoveryStatus.OPEN).count() == 1
    assert sorted(Survey.objects.filter(merchant=demo, score__lte=4, kind="csat").values_list("score", flat=True))[
        :2
    ] == [1, 2]
    assert set(tickets.values_list("status", flat=True)) == set(TicketStatus.values)
    assert set(tickets.values_list("kind", flat=True)) == set(TicketKind.values)
    assert not tickets.annotate(event_count=Count("events")).filter(event_count=0).exists()
    assert not Ticket.objects.filter(merchant=second).filter(customer__merchant=demo).exists()
    # (7 cases and the recovery case of its one low score: its only answered survey, a CSAT of 1)
    assert Ticket.objects.filter(merchant=second, return_request__isnull=True, repair_order__isnull=True).count() == 8
    assert RecoveryCase.objects.filter(merchant=second).count() == 1
    # The timeline came from the services: a closed case was resolved first, each step an event.
    closed = tickets.filter(status=TicketStatus.CLOSED).first()
    moves = [
        (event["data"]["from"], event["data"]["to"])
        for event in closed.events.filter(verb=TicketEvent.Verb.STATUS_CHANGED).values("data")
    ]
    assert moves[-1] == (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    assert closed.resolved_at is not None
    assert closed.closed_at > closed.resolved_at

    # Nothing was sent while seeding, and the built history leaves nothing for the worker to send
    assert mail.outbox == []
    assert Notification.objects.filter(merchant__in=[demo, second]).count() == 0

    # and the output tells how to log in, where the portal is and the API key, which works
    portal_order = Order.objects.get(merchant=demo, external_number=_after(output, "Order number: "))
    assert "Password for all: " in output
    assert "aftersales-demo" in output
    assert "/portal/demo/" in output
    assert portal_order.contact_email in output
    assert portal_order.contact_phone in output
    key = ApiKey.objects.get(merchant=demo, revoked_at__isnull=True)
    assert ApiKey.hash(_line_after(output, "API key of Demo Outdoor Co.")) == key.key_hash


def test_seeding_twice_duplicates_nothing(demo):
    # Given a seeded demo
    counts = {
        "merchants": Merchant.objects.count(),
        "users": User.objects.count(),
        "stores": Store.objects.count(),
        "memberships": Membership.objects.count(),
        "teams": Team.objects.count(),
        "sla policies": SlaPolicy.objects.count(),
        "orders": Order.objects.count(),
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "return policies": ReturnPolicy.objects.count(),
        "return rules": ReturnRule.objects.count(),
        "return reasons": ReturnReason.objects.count(),
        "returns": ReturnRequest.objects.count(),
        "return lines": ReturnLine.objects.count(),
        "refunds": Refund.objects.count(),
        "store credit entries": StoreCreditEntry.objects.count(),
        "article categories": ArticleCategory.objects.count(),
        "articles": Article.objects.count(),
        "macros": Macro.objects.count(),
        "routing rules": RoutingRule.objects.count(),
        "team assignments": TeamAssignment.objects.count(),
        "agent profiles": AgentProfile.objects.count(),
        "ticket links": TicketLink.objects.count(),
        "compensations": Compensation.objects.count(),
        "regulator cases": RegulatorCase.objects.count(),
        "technicians": TechnicianProfile.objects.count(),
        "visits": Visit.objects.count(),
    }
    assert counts["returns"] > 0
    assert counts["refunds"] > 0
    assert (counts["articles"], counts["macros"], counts["visits"]) == (6, 3, 2)

    # When it is seeded again
    output = seed()

    # Then nothing is duplicated; only the API key is replaced, so the printed one works
    assert {
        "merchants": Merchant.objects.count(),
        "users": User.objects.count(),
        "stores": Store.objects.count(),
        "memberships": Membership.objects.count(),
        "teams": Team.objects.count(),
        "sla policies": SlaPolicy.objects.count(),
        "orders": Order.objects.count(),
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "return policies": ReturnPolicy.objects.count(),
        "return rules": ReturnRule.objects.count(),
        "return reasons": ReturnReason.objects.count(),
        "returns": ReturnRequest.objects.count(),
        "return lines": ReturnLine.objects.count(),
        "refunds": Refund.objects.count(),
        "store credit entries": StoreCreditEntry.objects.count(),
        "article categories": ArticleCategory.objects.count(),
        "articles": Article.objects.count(),
        "macros": Macro.objects.count(),
        "routing rules": RoutingRule.objects.count(),
        "team assignments": TeamAssignment.objects.count(),
        "agent profiles": AgentProfile.objects.count(),
        "ticket links": TicketLink.objects.count(),
        "compensations": Compensation.objects.count(),
        "regulator cases": RegulatorCase.objects.count(),
        "technicians": TechnicianProfile.objects.count(),
        "visits": Visit.objects.count(),
    } == counts
    assert "left as it is" in output
    demo = Merchant.objects.get(slug="demo")
    assert ApiKey.objects.filter(merchant=demo).count() == 2
    active = ApiKey.objects.get(merchant=demo, revoked_at__isnull=True)
    assert ApiKey.hash(_line_after(output, "API key of Demo Outdoor Co.")) == active.key_hash


def test_the_demo_is_the_same_on_every_build(demo):
    # Given the demo built once
    first = list(Ticket.objects.order_by("merchant__slug", "number").values_list("number", "kind", "status", "subject"))

    # When the database is emptied of it (the ledger first: it protects what it paid for) and
    # it is built again
    StoreCreditEntry.objects.all().delete()
    StoreCreditAccount.objects.all().delete()
    RefundExecution.objects.all().delete()
    Refund.objects.all().delete()
    ReplacementShipment.objects.all().delete()
    Ticket.objects.all().delete()
    # The numbering starts again too: a recovery case's subject names the case it follows up.
    TicketNumberCounter.objects.all().delete()
    Order.objects.all().delete()
    seed()

    # Then the cases are the same
    again = list(Ticket.objects.order_by("merchant__slug", "number").values_list("kind", "status", "subject"))
    assert again == [row[1:] for row in first]


def test_seed_gives_both_merchants_a_return_policy_rules_and_a_reason_tree(demo):
    # When the demo is seeded

    # Then each merchant has a policy with the legal floor, a return address and its rules in order
    for slug in ("demo", "second"):
        policy = ReturnPolicy.objects.get(merchant__slug=slug)
        assert policy.legal_floor_days == 7
        assert policy.return_address != ""
        assert list(policy.rules.order_by("position").values_list("position", "window_days")) == [
            (10, 15),
            (20, 30),
            (30, 7),
            (40, 7),
        ]
        defects, apparel, cheap, _rest = policy.rules.order_by("position")
        assert defects.photos_required
        assert defects.match_reason_codes == [
            "defective",
            "not_as_described",
            "damaged_in_transit",
        ]
        assert apparel.match_categories == ["apparel", "footwear"]
        assert "exchange" in apparel.allowed_resolutions
        assert "store_credit" in apparel.allowed_resolutions
        assert cheap.auto_approve
        assert str(cheap.max_unit_price) == "300.00"
        # and a reason tree, each reason saying whose responsibility the return is
        reasons = {
            reason.code: (reason.responsibility, reason.parent.code if reason.parent else "")
            for reason in ReturnReason.objects.filter(merchant=policy.merchant).select_related("parent")
        }
        assert reasons == {
            "changed_mind": (Responsibility.CUSTOMER, ""),
            "wrong_size": (Responsibility.CUSTOMER, ""),
            "quality": (Responsibility.MERCHANT, ""),
            "defective": (Responsibility.MERCHANT, "quality"),
            "not_as_described": (Responsibility.MERCHANT, "quality"),
            "wrong_item": (Responsibility.MERCHANT, ""),
            "damaged_in_transit": (Responsibility.COURIER, ""),
        }
    # The demo sells freeze-dried food, which the law excepts; the second shop sells none.
    assert ReturnPolicy.objects.get(merchant__slug="demo").excepted_categories == ["food"]
    assert ReturnPolicy.objects.get(merchant__slug="second").excepted_categories == []


def test_seed_builds_returns_in_many_statuses_whose_counters_add_up(demo):
    # When the demo is seeded at a small size
    output = demo

    # Then its history has returns in at least eight statuses, each with a case and a timeline
    demo = Merchant.objects.get(slug="demo")
    returns = ReturnRequest.objects.filter(merchant=demo)
    statuses = set(returns.values_list("status", flat=True))
    assert len(statuses) >= 8
    assert {ReturnStatus.SUBMITTED, ReturnStatus.APPROVED, ReturnStatus.COMPLETED, ReturnStatus.CANCELLED} <= statuses
    assert returns.filter(ticket__events__verb="return_submitted").distinct().count() == returns.count()
    # and completed ones were paid: a refund or store credit, or a replacement on its way
    for completed in returns.filter(status=ReturnStatus.COMPLETED):
        assert completed.refunds.filter(state="paid").exists() or completed.replacements.exists()
    assert StoreCreditEntry.objects.filter(merchant=demo).exists()
    # and the inspected one could not be accepted: its units wait to be sent back to the customer
    inspected = returns.get(status=ReturnStatus.INSPECTED)
    assert list(inspected.lines.values_list("quantity_accepted", flat=True)) == [0]
    assert inspected.lines.get().quantity_rejected == inspected.lines.get().quantity
    assert list(inspected.shipments.filter(direction="to_customer").values_list("shipped_at", flat=True)) == [None]

    # and each order line's counters equal the sum over its returns' lines
    for line in OrderLine.objects.filter(
        order__merchant__in=Merchant.objects.all(), return_lines__isnull=False
    ).distinct():
        holding = line.return_lines.exclude(return_request__status__in=[ReturnStatus.CANCELLED, ReturnStatus.EXPIRED])
        sums = holding.aggregate(
            requested=Sum("quantity"), received=Sum("quantity_received"), accepted=Sum("quantity_accepted")
        )
        assert (line.quantity_requested, line.quantity_received, line.quantity_accepted) == (
            sums["requested"] or 0,
            sums["received"] or 0,
            sums["accepted"] or 0,
        )
        refunded = line.refund_lines.aggregate(units=Sum("quantity"))["units"] or 0
        exchanged = line.replacements.aggregate(units=Sum("quantity"))["units"] or 0
        assert (line.quantity_refunded, line.quantity_exchanged) == (refunded, exchanged)

    # and the printed portal order has a line a newcomer can return today
    order = Order.objects.get(merchant=demo, external_number=_after(output, "Order number: "))
    policy = ReturnPolicy.objects.get(merchant=demo)
    reason = ReturnReason.objects.get(merchant=demo, code="changed_mind")
    assert any(
        line_terms(
            policy=policy,
            rules=active_rules(policy),
            line=line,
            reason=reason,
            customer=order.customer,
            now=timezone.now(),
        ).eligible
        for line in order.lines.select_related("product", "order__merchant")
    )


def test_seed_gives_the_demo_a_support_desk_and_a_complaint_worked_through_to_12315(demo):
    # When the demo is seeded at a small size
    merchant = Merchant.objects.get(slug="demo")

    # Then its knowledge base has six published articles, three in each language, in two categories
    articles = Article.objects.filter(merchant=merchant).order_by("pk")
    assert list(articles.values_list("language", "status", "category__name_en", "title")) == [
        ("zh-hans", "published", "Returns and refunds", "如何申请七天无理由退货？"),
        ("zh-hans", "published", "Returns and refunds", "退款多久到账？"),
        ("zh-hans", "published", "Warranty and repairs", "保修期内的维修怎么申请？"),
        ("en", "published", "Returns and refunds", "How do I return an item?"),
        ("en", "published", "Returns and refunds", "When will I get my refund?"),
        ("en", "published", "Warranty and repairs", "Getting a repair under warranty"),
    ]
    assert not articles.filter(published_at__isnull=True).exists()
    assert not articles.filter(versions__isnull=True).exists()
    # and three shared macros, each replying in both languages
    macros = Macro.objects.filter(merchant=merchant, owner__isnull=True).order_by("name")
    assert list(macros.values_list("name", "set_status", "add_tags")) == [
        ("Ask for photos 请客户补充照片", TicketStatus.WAITING_CUSTOMER, ["photos-requested"]),
        ("Refund started 退款已发起", TicketStatus.RESOLVED, []),
        ("Warranty repair: send it in 保修寄修", "", ["warranty"]),
    ]
    assert not macros.filter(reply_zh_hans="").exists()
    assert not macros.filter(reply_en="").exists()
    # and a routing rule that was in place for the history: the cases it matched were routed
    rule = RoutingRule.objects.get(merchant=merchant)
    assert (rule.name, rule.position, rule.set_team.name, rule.add_tags) == (
        "Damaged in transit → returns team 运输破损转退换货组",
        10,
        "Returns & exchanges 退换货组",
        ["damaged-in-transit"],
    )
    assert TicketEvent.objects.filter(ticket__merchant=merchant, verb="routed").count() == 3
    # and both teams auto-assign, to agents with their skills, the two desk agents available
    assert set(TeamAssignment.objects.filter(merchant=merchant).values_list("auto_assign", "strategy")) == {
        (True, "least_loaded")
    }
    assert TeamAssignment.objects.filter(merchant=merchant).count() == 2
    assert list(
        AgentProfile.objects.filter(merchant=merchant)
        .order_by("user__username")
        .values_list("user__username", "status", "capacity", "languages")
    ) == [
        ("agent", "available", 12, ["zh-hans"]),
        ("agent2", "available", 10, ["zh-hans", "en"]),
        ("technician", "offline", 6, ["zh-hans"]),
    ]

    # and a complaint linked to a related case, classified, compensated and taken to 12315
    link = TicketLink.objects.get(merchant=merchant)
    assert link.kind == "related"
    compensation = Compensation.objects.select_related("complaint__ticket").get(merchant=merchant)
    complaint = compensation.complaint
    assert (complaint.severity, complaint.category, complaint.ticket.kind) == ("serious", "delivery", "complaint")
    assert (compensation.kind, str(compensation.amount), compensation.status) == ("store_credit", "50.00", "accepted")
    assert link.target == complaint.ticket
    case = RegulatorCase.objects.get(merchant=merchant)
    assert (case.complaint, case.channel, case.reference) == (complaint, "12315", "12315-2024-0001")
    assert case.answer_due_at > case.acceptance_due_at > timezone.now()

    # and the technician has a dispatch profile and a visit booked for each on-site repair waiting for one
    technician = TechnicianProfile.objects.get(merchant=merchant)
    assert (technician.user.username, technician.skills) == (
        "technician",
        {"electronics": 2, "cooking": 2, "water": 1},
    )
    visits = Visit.objects.filter(merchant=merchant)
    assert list(visits.values_list("status", "technician__user__username", "repair__status")) == [
        ("booked", "technician", "scheduled"),
        ("booked", "technician", "scheduled"),
    ]
    assert visits.filter(window_start__date__gt=timezone.localdate()).count() == 2
    # The second merchant's desk is left empty: only the demo merchant shows the new features.
    assert not Article.objects.filter(merchant__slug="second").exists()


def _after(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if label in line)
    return line.split(label, 1)[1].split()[0]


def _line_after(output: str, heading: str) -> str:
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if heading in line)
    return lines[index + 1].strip()


def test_seed_leaves_the_kpi_rollups_refreshed_so_the_kpi_home_shows_the_demo_at_once(demo):
    # Given the demo, seeded (the demo fixture), and no beat run yet
    merchant = Merchant.objects.get(slug="demo")

    # Then its KPI rollups were refreshed once, over the nightly refresh's span, and hold its cases
    refresh = RollupRefresh.objects.get(merchant=merchant)
    days = TicketDailyRollup.objects.filter(merchant=merchant).aggregate(first=Min("day"), last=Max("day"))
    assert days["last"] <= timezone.localdate(refresh.refreshed_at, timezone=ZoneInfo(merchant.timezone))
    assert days["first"] >= days["last"] - timedelta(days=ROLLUP_DEMO_DAYS)
    assert TicketDailyRollup.objects.filter(merchant=merchant).aggregate(total=Sum("created"))["total"] > 0
