"""The case hub's part of the demo: teams, the business calendar and SLA policies, the support
desk (knowledge-base articles, shared macros, a routing rule, agent skills and auto-assignment),
and a few hundred cases of every kind in every status, each moved through the services at the
time each step happened; then a link between two cases and a complaint worked to a compensation
and a regulator case. Registered with ``aftersales.demo`` in ``TicketsConfig.ready``."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.db import transaction
from django.utils import timezone

from aftersales.demo import DemoBuilder, DemoSize, DemoSummary, Tenant
from aftersales.models import BusinessCalendar, Customer, Merchant, Order, OrderLine, User, WorkingHours
from tickets.models import (
    AgentStatus,
    Article,
    ArticleCategory,
    AssignmentStrategy,
    CompensationKind,
    CompensationStatus,
    ComplaintCategory,
    ComplaintSeverity,
    Macro,
    RegulatorChannel,
    RoutingRule,
    SlaPolicy,
    Team,
    Ticket,
    TicketChannel,
    TicketKind,
    TicketLink,
    TicketPriority,
    TicketStatus,
)
from tickets.services import (
    article_category_create,
    article_create,
    article_publish,
    compensation_answer,
    compensation_approve,
    compensation_propose,
    complaint_classify,
    regulator_case_record,
    ticket_assign,
    ticket_change_priority,
    ticket_change_status,
    ticket_create,
    ticket_customer_message,
    ticket_link_order,
    ticket_note,
    ticket_reply,
    ticket_set_tags,
)
from tickets.services.assignment import agent_profile_for, agent_profile_save, agent_set_status, team_assignment_save
from tickets.services.macros import macro_save
from tickets.services.merge import ticket_link
from tickets.services.routing import routing_rule_save

Kind = TicketKind
Status = TicketStatus

# The teams of each merchant: {key: (name, members)} by the merchant's demo key.
TEAMS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "demo": {
        "returns": ("Returns & exchanges 退换货组", ("supervisor", "agent", "agent2")),
        "repairs": ("Repairs & support 维修技术组", ("technician", "agent2")),
    },
    "second": {"care": ("Customer care", ("second-admin", "second-agent"))},
}

# What customers write, by kind and language. ``{product}`` is the product the case is about.
OPENINGS = {
    Kind.RETURN: {
        "zh-hans": [
            ("退货：{product} 尺码不合适", "收到的{product}偏小，穿着不舒服，想申请退货退款。吊牌还在，没有使用过。"),
            ("{product} 与描述不符，申请退货", "{product}的颜色和页面图片差别很大，想退货。"),
        ],
        "en": [
            ("Return: {product} does not fit", "The {product} is too small for me. Tags are still on, never used."),
            ("{product} not as described", "The colour of the {product} is very different from the photos."),
        ],
    },
    Kind.EXCHANGE: {
        "zh-hans": [
            ("换货：{product} 想换大一号", "{product}小了一码，能换大一号吗？"),
            ("{product} 换颜色", "想把{product}换成深蓝色，谢谢。"),
        ],
        "en": [
            ("Exchange {product} for a larger size", "The {product} is one size too small, can I swap it?"),
            ("Exchange {product} for another colour", "I would prefer the {product} in navy, please."),
        ],
    },
    Kind.REFUND_ONLY: {
        "zh-hans": [
            ("仅退款：包裹一直没收到", "物流显示已签收，但我没有收到{product}，请帮忙处理退款。"),
            ("{product} 少发了一件", "订单里的{product}少了一件，申请退这一件的钱。"),
        ],
        "en": [
            ("Refund only: parcel never arrived", "Tracking says delivered but the {product} never reached me."),
            ("One {product} missing from the parcel", "I ordered two but only one {product} was in the box."),
        ],
    },
    Kind.REPAIR: {
        "zh-hans": [
            ("{product} 无法开机", "{product}用了两个月，现在充电后也无法开机，还在保修期内。"),
            ("{product} 故障报修", "{product}出现故障，时好时坏，需要维修。"),
        ],
        "en": [
            ("{product} will not switch on", "My {product} stopped working after two months, even when charged."),
            ("{product} is faulty", "The {product} works on and off. It is still under warranty."),
        ],
    },
    Kind.SUPPORT: {
        "zh-hans": [
            ("{product} 怎么设置？", "刚买的{product}，说明书看不太懂，请问怎么设置？"),
            ("{product} 使用问题", "{product}第一次使用有点问题，能指导一下吗？"),
        ],
        "en": [
            ("How do I set up the {product}?", "I just got the {product} and the manual is unclear."),
            ("Question about using the {product}", "Could you walk me through the first use of the {product}?"),
        ],
    },
    Kind.COMPLAINT: {
        "zh-hans": [
            ("投诉：包装破损，快递态度差", "{product}到货时外箱被压坏了，快递员还不让验货。"),
            ("投诉：客服一直不回复", "关于{product}的问题问了三天都没人回复，非常不满意。"),
        ],
        "en": [
            (
                "Complaint: crushed box, rude courier",
                "The {product} arrived in a crushed box and the courier was rude.",
            ),
            ("Complaint: nobody answers", "I have asked about the {product} for three days without an answer."),
        ],
    },
    Kind.INQUIRY: {
        "zh-hans": [
            ("{product} 适合冬天用吗？", "想问一下{product}在零下十度能用吗？"),
            ("{product} 什么时候补货？", "请问{product}的其他尺码什么时候有货？"),
        ],
        "en": [
            ("Is the {product} fine for winter?", "Can I use the {product} at -10°C?"),
            ("When is the {product} back in stock?", "When will the other sizes of the {product} be available?"),
        ],
    },
}
STAFF_LINES = {
    "zh-hans": {
        "first_reply": "您好，已收到您的申请，我们正在处理，请稍候。",
        "ask_info": "您好，麻烦上传几张商品和包装的照片，以便我们尽快处理。",
        "resolution": "问题已处理完毕，如有其他问题请随时联系我们。祝您户外愉快！",
        "follow_up": "已为您加急处理，预计1-2个工作日内完成。",
    },
    "en": {
        "first_reply": "Hello, we have received your request and are looking into it.",
        "ask_info": "Could you upload a few photos of the item and its packaging, please?",
        "resolution": "All sorted on our side. Let us know if anything else comes up. Enjoy the outdoors!",
        "follow_up": "We have prioritised your case; expect it done within one or two working days.",
    },
}
CUSTOMER_LINES = {
    "zh-hans": {"more_info": "照片已经上传了，请查看。", "cancel": "问题已经自己解决了，不用处理了，谢谢。"},
    "en": {"more_info": "I have uploaded the photos now.", "cancel": "Never mind, I sorted it out myself. Thanks."},
}
NOTES = (
    "Checked with the warehouse: stock available for a replacement.",
    "Customer called twice; keep replies short and friendly.",
    "Carrier claim opened with SF Express.",
    "Similar fault reported on the same batch — flag for quality.",
)
WITHDRAWN = "Customer withdrew the request."
THIRD_PARTY_NOTES = ("Waiting on SF Express for the claim.", "Waiting on the factory's answer about the fault.")
TAG_SETS = (("damaged-in-transit",), ("size",), ("quality", "batch-2024-07"), ("vip",), ("missing-parts",))

# (position, name, what it matches, first response, next response, resolution) in business minutes
SLA_POLICIES: tuple[tuple[int, str, dict[str, Any], int, int, int], ...] = (
    (1, "VIP customers", {"match_customer_tiers": [Customer.Tier.VIP]}, 60, 120, 13 * 60),
    (2, "Complaints", {"match_kinds": [Kind.COMPLAINT]}, 120, 240, 2 * 13 * 60),
    (3, "Standard", {}, 4 * 60, 8 * 60, 3 * 13 * 60),
)

# The knowledge base: {category key: (Chinese name, English name)} and each article as
# (category key, language, title, text), published by the merchant admin.
ARTICLE_CATEGORIES = {
    "returns": ("退货与退款", "Returns and refunds"),
    "repairs": ("保修与维修", "Warranty and repairs"),
}
ARTICLES = (
    (
        "returns",
        "zh-hans",
        "如何申请七天无理由退货？",
        (
            "签收后七天内，商品保持完好、吊牌齐全，即可在“售后服务”页面输入订单号申请退货。"
            "审核通过后，请按页面上的地址寄回，并填写快递单号。食品、礼品卡等特殊商品不适用七天无理由退货。"
        ),
    ),
    (
        "returns",
        "zh-hans",
        "退款多久到账？",
        (
            "仓库收到并检验退回的商品后，一般在 1 个工作日内发起退款。"
            "原路退回的款项到账时间取决于支付方式：支付宝、微信通常当天到账，银行卡需要 3 至 7 个工作日。"
        ),
    ),
    (
        "repairs",
        "zh-hans",
        "保修期内的维修怎么申请？",
        (
            "电子产品和炉具享受三包服务。请在“售后服务”页面选择“维修”，描述故障并上传照片或视频。"
            "保修期内因产品质量问题产生的维修免收配件费和工时费，寄修运费由我们承担。"
        ),
    ),
    (
        "returns",
        "en",
        "How do I return an item?",
        (
            "Within seven days of delivery, an unused item with its tags can be returned without giving a reason. "
            "Enter your order number on the after-sales page, choose the items and the reason, and send them to the "
            "address shown once the return is approved. Food and gift cards cannot be returned."
        ),
    ),
    (
        "returns",
        "en",
        "When will I get my refund?",
        (
            "We start the refund within one working day of receiving and checking the returned items. "
            "Alipay and WeChat Pay refunds usually arrive the same day; bank cards take three to seven working days."
        ),
    ),
    (
        "repairs",
        "en",
        "Getting a repair under warranty",
        (
            "Electronics and stoves are covered by the statutory warranty. Choose Repair on the after-sales page, "
            "describe the fault and add a photo or video. Repairs of manufacturing faults under warranty are free "
            "of charge for parts and labour, and we pay the postage both ways."
        ),
    ),
)
# Shared macros: (name, Chinese reply, English reply, status it sets, tags it adds).
MACROS: tuple[tuple[str, str, str, str, list[str]], ...] = (
    (
        "Ask for photos 请客户补充照片",
        "{customer_name}您好，麻烦上传几张商品和包装的照片，以便我们尽快为您处理工单 {ticket_number}。",
        (
            "Hello {customer_name}, could you upload a few photos of the item and its packaging? "
            "It helps us settle {ticket_number} sooner."
        ),
        Status.WAITING_CUSTOMER,
        ["photos-requested"],
    ),
    (
        "Refund started 退款已发起",
        "{customer_name}您好，订单 {order_number} 的退款已经发起，请留意原支付账户。祝您户外愉快！",
        "Hello {customer_name}, the refund for order {order_number} is on its way to your original payment method.",
        Status.RESOLVED,
        [],
    ),
    (
        "Warranty repair: send it in 保修寄修",
        "{customer_name}您好，您的商品在保修期内，请按页面上的地址寄回，我们收到后会尽快检测维修。",
        (
            "Hello {customer_name}, your item is under warranty: please send it to the address shown on the page "
            "and we will check and repair it as soon as it arrives."
        ),
        "",
        ["warranty"],
    ),
)
ROUTING_RULE = "Damaged in transit → returns team 运输破损转退换货组"
ROUTING_KEYWORDS = ["破损", "压坏", "crushed", "damaged"]
# Agent skills: (username, capacity, languages, product categories, kinds); every demo agent
# sits in an auto-assigning team.
AGENT_SKILLS: tuple[tuple[str, int, list[str], list[str], list[str]], ...] = (
    ("agent", 12, ["zh-hans"], [], []),
    ("agent2", 10, ["zh-hans", "en"], [], []),
    ("technician", 6, ["zh-hans"], ["electronics", "cooking", "water"], [Kind.REPAIR, Kind.SUPPORT]),
)
COMPENSATION_NOTE = "包装破损致歉，赠送店铺余额。Store credit as an apology for the crushed box."
REGULATOR_REFERENCE = "12315-2024-0001"

# The first seven cover every status, so even a small demo has each one.
STATUS_PATTERN = (
    Status.NEW,
    Status.OPEN,
    Status.WAITING_CUSTOMER,
    Status.WAITING_THIRD_PARTY,
    Status.RESOLVED,
    Status.CLOSED,
    Status.CANCELLED,
    Status.CLOSED,
    Status.OPEN,
    Status.NEW,
    Status.CLOSED,
    Status.WAITING_CUSTOMER,
    Status.OPEN,
    Status.CLOSED,
    Status.RESOLVED,
    Status.NEW,
    Status.CLOSED,
    Status.OPEN,
    Status.CLOSED,
    Status.WAITING_THIRD_PARTY,
)
KIND_WEIGHTS = {
    Kind.RETURN: 30,
    Kind.EXCHANGE: 12,
    Kind.REFUND_ONLY: 12,
    Kind.REPAIR: 14,
    Kind.SUPPORT: 16,
    Kind.COMPLAINT: 8,
    Kind.INQUIRY: 8,
}
# How long ago a case in each final state was opened, in days.
AGE_DAYS = {
    Status.NEW: (0.02, 1.5),
    Status.OPEN: (0.3, 8),
    Status.WAITING_CUSTOMER: (0.5, 8),
    Status.WAITING_THIRD_PARTY: (1, 10),
    Status.RESOLVED: (1, 6),
    Status.CLOSED: (8, 80),
    Status.CANCELLED: (2, 80),
}


class TicketsDemoStory:
    def __init__(self, builder: DemoBuilder):
        self.rng, self.now = builder.rng, builder.now
        self.teams: dict[str, dict[str, Team]] = {}

    def setup(self, tenants: dict[str, Tenant]) -> None:
        for key, tenant in tenants.items():
            self.teams[key] = {
                team_key: self.team(tenant.merchant, name, tenant.staff, members)
                for team_key, (name, members) in TEAMS[key].items()
            }
        self.service_levels(tenants["demo"])
        self.support_desk(tenants["demo"])

    def history(self, tenant: Tenant, orders: list[Order], size: DemoSize) -> None:
        count = size.tickets if tenant.key == "demo" else max(7, size.tickets // 10)
        # One commit for the merchant's cases instead of thousands.
        with transaction.atomic():
            self.tickets(tenant, orders, count=count)
        if tenant.key == "demo":
            self.desk_history(tenant)

    def summarize(self, summary: DemoSummary) -> None:
        summary.ticket_count = Ticket.objects.filter(merchant=summary.merchant).count()

    def team(self, merchant: Merchant, name: str, staff: dict[str, User], members: tuple[str, ...]) -> Team:
        team, _created = Team.objects.get_or_create(merchant=merchant, name=name)
        team.members.add(*(staff[username] for username in members))
        return team

    def service_levels(self, tenant: Tenant) -> None:
        """A default business calendar (every day 09:00–22:00) and SLA policies, so the queue
        shows countdowns; the worker's sweep escalates what the history left overdue."""
        merchant = tenant.merchant
        calendar = BusinessCalendar.objects.filter(merchant=merchant, team__isnull=True, is_resource=False).first()
        if calendar is None:
            calendar = BusinessCalendar.objects.create(merchant=merchant, name="Service desk 客服工作时间")
        if not calendar.working_hours.exists():
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=calendar, weekday=day, start_minute=9 * 60, end_minute=22 * 60)
                for day in range(7)
            )
        for position, name, matches, first, following, resolution in SLA_POLICIES:
            SlaPolicy.objects.update_or_create(
                merchant=merchant,
                position=position,
                defaults={
                    "name": name,
                    **matches,
                    "first_response_minutes": first,
                    "next_response_minutes": following,
                    "resolution_minutes": resolution,
                    "breach_team": self.teams[tenant.key]["returns"] if position == 1 else None,
                },
            )

    def support_desk(self, tenant: Tenant) -> None:
        """The knowledge base, shared macros, a routing rule, agent skills and auto-assignment,
        each through its service and keyed by name, so a second run finds what the first made.
        The routing rule is in place before the history, so the cases it matches were routed."""
        merchant, admin, supervisor = tenant.merchant, tenant.staff["admin"], tenant.supervisor
        categories: dict[str, ArticleCategory] = {}
        for key, (name_zh_hans, name_en) in ARTICLE_CATEGORIES.items():
            category = ArticleCategory.objects.filter(merchant=merchant, name_en=name_en).first()
            categories[key] = category or article_category_create(
                merchant=merchant, actor=admin, name_zh_hans=name_zh_hans, name_en=name_en, position=len(categories)
            )
        for key, language, title, body in ARTICLES:
            if not Article.objects.filter(merchant=merchant, language=language, title=title).exists():
                article = article_create(
                    merchant=merchant,
                    actor=admin,
                    language=language,
                    title=title,
                    body=body,
                    category=categories[key],
                )
                article_publish(article=article, actor=admin)
        for name, reply_zh_hans, reply_en, status, tags in MACROS:
            if not Macro.objects.filter(merchant=merchant, owner__isnull=True, name=name).exists():
                macro = Macro(
                    merchant=merchant,
                    name=name,
                    reply_zh_hans=reply_zh_hans,
                    reply_en=reply_en,
                    set_status=status,
                    add_tags=tags,
                )
                macro_save(macro=macro, actor=supervisor)
        returns_team = self.teams[tenant.key]["returns"]
        if not RoutingRule.objects.filter(merchant=merchant, name=ROUTING_RULE).exists():
            rule = RoutingRule(
                merchant=merchant,
                name=ROUTING_RULE,
                match_keywords=ROUTING_KEYWORDS,
                set_team=returns_team,
                set_priority=TicketPriority.HIGH,
                add_tags=["damaged-in-transit"],
            )
            routing_rule_save(rule=rule, actor=supervisor)
        for team in self.teams[tenant.key].values():
            team_assignment_save(
                team=team, actor=supervisor, auto_assign=True, strategy=AssignmentStrategy.LEAST_LOADED, kind_weights={}
            )
        for username, capacity, languages, categories_served, kinds in AGENT_SKILLS:
            agent_profile_save(
                profile=agent_profile_for(merchant=merchant, user=tenant.staff[username]),
                actor=supervisor,
                capacity=capacity,
                languages=languages,
                product_categories=categories_served,
                kinds=list(kinds),
                shift_calendar=None,
            )

    def desk_history(self, tenant: Tenant) -> None:
        """After the cases: the agents come online (auto-assignment hands them the routed cases
        still waiting in their team's pool), the first complaint is linked to a related case (its
        customer's other one when there is one), classified, compensated and taken to 12315. Each a
        service call, at today's time."""
        merchant, supervisor = tenant.merchant, tenant.supervisor
        for username in ("agent", "agent2"):
            agent_set_status(
                merchant=merchant, agent=tenant.staff[username], actor=supervisor, status=AgentStatus.AVAILABLE
            )
        tickets = Ticket.objects.filter(merchant=merchant, return_request__isnull=True, repair_order__isnull=True)
        complaint = tickets.filter(kind=Kind.COMPLAINT).exclude(status=Status.CANCELLED).order_by("pk").first()
        if complaint is None:
            return
        other = tickets.exclude(pk=complaint.pk).filter(customer=complaint.customer).order_by("pk").first()
        other = other or tickets.exclude(pk=complaint.pk).order_by("pk").first()
        if other is not None and not TicketLink.objects.filter(merchant=merchant).exists():
            ticket_link(ticket=complaint, other=other, kind="related", actor=supervisor)
        complaint_classify(
            ticket=complaint,
            actor=supervisor,
            severity=ComplaintSeverity.SERIOUS,
            category=ComplaintCategory.DELIVERY,
        )
        compensation = compensation_propose(
            ticket=complaint,
            actor=supervisor,
            kind=CompensationKind.STORE_CREDIT,
            amount=Decimal("50.00"),
            note=COMPENSATION_NOTE,
        )
        if compensation.status == CompensationStatus.AWAITING_APPROVAL:
            compensation = compensation_approve(compensation=compensation, actor=tenant.staff["admin"])
        compensation_answer(compensation=compensation, accept=True, actor=supervisor)
        today = timezone.localdate(self.now)
        regulator_case_record(
            ticket=complaint,
            actor=supervisor,
            channel=RegulatorChannel.CONSUMER_HOTLINE,
            reference=REGULATOR_REFERENCE,
            received_on=today - timedelta(days=2),
            answer_due_on=today + timedelta(days=12),
        )

    def tickets(self, tenant: Tenant, orders: list[Order], *, count: int) -> None:
        rng = self.rng
        delivered = sorted((o for o in orders if o.delivered_at), key=lambda o: o.delivered_at or self.now)
        lines_by_order: dict[int, list[OrderLine]] = {order.pk: [] for order in orders}
        for line in OrderLine.objects.filter(order__in=orders).select_related("product").order_by("order_id", "id"):
            lines_by_order[line.order_id].append(line)
        kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
        for i in range(count):
            status = STATUS_PATTERN[i % len(STATUS_PATTERN)]
            kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choices(kinds, weights)[0]
            low, high = AGE_DAYS[status]
            opened_at = self.now - timedelta(days=rng.uniform(low, high))
            candidates = [o for o in (orders if kind == Kind.REFUND_ONLY else delivered) if _since(o) < opened_at]
            if not candidates:
                candidates = delivered or orders
                opened_at = max(opened_at, _since(candidates[0]) + timedelta(hours=2))
                opened_at = min(opened_at, self.now - timedelta(hours=1))
            order = rng.choice(candidates[-60:] if kind == Kind.COMPLAINT else candidates)
            self.ticket(tenant, order, lines_by_order[order.pk], kind=kind, status=status, opened_at=opened_at)

    def ticket(self, tenant: Tenant, order: Order, lines, *, kind, status, opened_at) -> Ticket:
        rng = self.rng
        merchant, staff, teams, supervisor = tenant.merchant, tenant.staff, self.teams[tenant.key], tenant.supervisor
        customer = order.customer
        language = "en" if customer.pk % 5 == 0 or merchant.default_language == "en" else "zh-hans"
        if customer.language != language:
            Customer.objects.filter(pk=customer.pk).update(language=language)
            customer.language = language
        line = _line_for(kind, lines, rng)
        subject, body = rng.choice(OPENINGS[kind][language])
        product = _product_name(line.product.name, language) if line else ""
        channel = rng.choices(
            (TicketChannel.PORTAL, TicketChannel.EMAIL, TicketChannel.PHONE, TicketChannel.API), (55, 20, 15, 10)
        )[0]
        agents = [staff[name] for name in ("agent", "agent2") if name in staff]
        agents = agents or [user for user in staff.values() if user != supervisor]
        assignee = _assignee_for(kind, staff, rng) or rng.choice(agents)
        team = teams.get("repairs" if kind in (Kind.REPAIR, Kind.SUPPORT) else "returns") or next(iter(teams.values()))
        priority = TicketPriority.NORMAL
        if kind == Kind.COMPLAINT or customer.tier == Customer.Tier.VIP:
            priority = TicketPriority.HIGH
        elif kind == Kind.INQUIRY:
            priority = TicketPriority.LOW
        by_phone = channel == TicketChannel.PHONE
        staff_lines, customer_lines = STAFF_LINES[language], CUSTOMER_LINES[language]

        steps = []  # (hours after the previous step, service, its arguments besides the ticket)

        def then(hours: float, service, **kwargs) -> None:
            steps.append((hours, service, kwargs))

        if by_phone:
            then(0.3, ticket_link_order, actor=assignee, order=order, order_lines=[line] if line else [])
        if status != Status.NEW or rng.random() < 0.5:
            then(rng.uniform(0.1, 3), ticket_assign, actor=supervisor, assignee=assignee, team=team)
        if rng.random() < 0.15:
            then(rng.uniform(0.1, 2), ticket_change_priority, actor=supervisor, priority=TicketPriority.URGENT)
        if rng.random() < 0.3:
            then(rng.uniform(0.1, 2), ticket_set_tags, actor=assignee, names=rng.choice(TAG_SETS))
        if status == Status.CANCELLED:
            then(rng.uniform(1, 20), ticket_customer_message, customer=customer, body=customer_lines["cancel"])
            then(rng.uniform(0.5, 8), ticket_change_status, actor=assignee, status=Status.CANCELLED, note=WITHDRAWN)
        elif status != Status.NEW:
            if status == Status.WAITING_CUSTOMER:
                then(rng.uniform(0.5, 10), ticket_reply, actor=assignee, body=staff_lines["ask_info"], status=status)
            else:
                then(rng.uniform(0.5, 10), ticket_reply, actor=assignee, body=staff_lines["first_reply"])
            if rng.random() < 0.35:
                then(rng.uniform(0.2, 6), ticket_note, actor=assignee, body=rng.choice(NOTES))
            if status == Status.WAITING_THIRD_PARTY:
                note = rng.choice(THIRD_PARTY_NOTES)
                then(rng.uniform(0.5, 12), ticket_change_status, actor=assignee, status=status, note=note)
            if status in (Status.RESOLVED, Status.CLOSED):
                if rng.random() < 0.6:
                    waiting = Status.WAITING_CUSTOMER
                    then(
                        rng.uniform(0.5, 8), ticket_reply, actor=assignee, body=staff_lines["ask_info"], status=waiting
                    )
                    then(
                        rng.uniform(2, 30), ticket_customer_message, customer=customer, body=customer_lines["more_info"]
                    )
                then(rng.uniform(1, 30), ticket_reply, actor=assignee, body=staff_lines["follow_up"])
                resolution = staff_lines["resolution"]
                then(rng.uniform(4, 72), ticket_reply, actor=assignee, body=resolution, status=Status.RESOLVED)
            if status == Status.CLOSED:
                then(rng.uniform(72, 168), ticket_change_status, actor=assignee, status=Status.CLOSED)

        # Squeeze the story into the time between opening and now, keeping its proportions.
        available = (self.now - timedelta(minutes=5) - opened_at).total_seconds() / 3600
        total = sum(hours for hours, _service, _kwargs in steps)
        scale = min(1.0, available / total) if total else 1.0
        with time_machine.travel(opened_at, tick=False):
            ticket = ticket_create(
                merchant=merchant,
                kind=kind,
                subject=subject.format(product=product),
                body=body.format(product=product),
                customer=customer,
                channel=channel,
                order=None if by_phone else order,
                order_lines=[line] if line and not by_phone else [],
                priority=priority,
                created_by=assignee if by_phone else None,
            )
        at = opened_at
        for hours, service, kwargs in steps:
            at += timedelta(hours=hours * scale)
            with time_machine.travel(at, tick=False):
                service(ticket=ticket, **kwargs)
        return ticket


def _since(order: Order) -> datetime:
    return order.delivered_at or order.placed_at


def _product_name(name: str, language: str) -> str:
    """The catalogue names are bilingual, "Beacon 400 Headlamp 灯塔400头灯": the customer's half."""
    words = name.split(" ")
    split = next((i for i, word in enumerate(words) if not word.isascii()), len(words))
    english, chinese = " ".join(words[:split]), " ".join(words[split:])
    return (chinese if language == "zh-hans" else english) or name


def _line_for(kind, lines, rng):
    if not lines:
        return None
    if kind == Kind.REPAIR:
        covered = [line for line in lines if line.product.warranty_months]
        return rng.choice(covered or lines)
    if kind in (Kind.RETURN, Kind.EXCHANGE):
        returnable = [line for line in lines if line.product.returnable]
        return rng.choice(returnable or lines)
    return rng.choice(lines)


def _assignee_for(kind, staff, rng) -> User | None:
    if kind == Kind.REPAIR and "technician" in staff:
        return staff["technician"]
    if kind == Kind.COMPLAINT and "supervisor" in staff:
        return staff["supervisor"]
    if kind == Kind.SUPPORT and "technician" in staff:
        return rng.choice((staff["technician"], staff["agent2"]))
    return None
