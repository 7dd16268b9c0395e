"""Rows of the knowledge base and of complaint handling, made the way the product makes them, for
tests that need one of everything (the admin's)."""

from datetime import date

from aftersales.models import Membership, Merchant, Order
from aftersales.tests.factories import MembershipFactory
from tickets.models import ArticleCategory, ArticleLanguage, CompensationSettings, TicketChannel, TicketKind
from tickets.services import (
    article_create,
    article_deflection_record,
    article_feedback_record,
    article_publish,
    compensation_answer,
    compensation_pay,
    compensation_propose,
    complaint_escalate,
    regulator_case_record,
    ticket_create,
)


def support_kb_rows(*, merchant: Merchant, order: Order, n: int) -> None:
    admin_user = MembershipFactory.create(merchant=merchant, role=Membership.Role.MERCHANT_ADMIN).user
    category = ArticleCategory.objects.create(merchant=merchant, name_zh_hans=f"退货{n}", name_en=f"Returns {n}")
    article = article_create(
        merchant=merchant,
        actor=admin_user,
        language=ArticleLanguage.ZH_HANS,
        title=f"如何申请退货 {n}",
        body="在订单页面申请退货。",
        category=category,
    )
    article = article_publish(article=article, actor=admin_user)
    article_feedback_record(article=article, helpful=True, session_key=f"session-{n}")
    article_deflection_record(article=article, session_key=f"session-{n}", query="怎么退货")
    CompensationSettings.objects.get_or_create(merchant=merchant)
    complaint = ticket_create(
        merchant=merchant,
        kind=TicketKind.COMPLAINT,
        subject=f"Complaint {n}",
        body="Late again.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )
    complaint_escalate(ticket=complaint, actor=admin_user, reason="Serious")
    offer = compensation_propose(ticket=complaint, actor=admin_user, kind="coupon", amount="10")
    compensation_answer(compensation=offer, actor=admin_user, accept=True)
    compensation_pay(compensation=offer, actor=admin_user)
    regulator_case_record(
        ticket=complaint,
        actor=admin_user,
        channel="12315",
        reference=f"12315-{n}",
        received_on=date(2026, 1, 5),
        answer_due_on=date(2026, 1, 20),
    )
