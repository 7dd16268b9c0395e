"""feedback's part of the demo: survey settings and follow-up rules per merchant, then, over the
cases the other stories resolved in the past, the surveys sent and answered, reminders, NPS and
the follow-up calls made, each through the services at the time it happened. Registered with
``aftersales.demo`` in ``FeedbackConfig.ready``.

The demo's customers answer 3 to 5 (NPS 7 to 10) and are reached or not on their calls, except
the first answers of each merchant: a CSAT of 1, then of 2, and an NPS detractor (4), so that the
low scores, the recovery cases they open (the latest left open for the supervisor, the others
worked and closed) and the recovery queue show something on every demo. Each of those recovery
cases is a case of its own, on top of the tickets story's."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from aftersales.demo import DemoBuilder, DemoSize, DemoSummary, Tenant
from aftersales.models import Deadline, Order
from feedback.deadline_kinds import SURVEY_NPS
from feedback.models import (
    CallResult,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    FollowUpTrigger,
    RecoveryCase,
    RecoveryStatus,
    Survey,
    SurveySettings,
    SurveyStatus,
)
from feedback.reasons import reasons_for
from feedback.services import (
    followup_mark_due,
    followup_record_call,
    nps_send,
    recovery_close,
    rollups_refresh,
    survey_remind,
    survey_respond,
    survey_send,
)

# The days of rollups the demo refreshes: the nightly refresh's span (feedback.tasks).
ROLLUP_DEMO_DAYS = 35

# (name, trigger, hours after, refunds over, script) by the merchant's demo key.
RULES: dict[str, list[tuple[str, str, int, Decimal | None, str]]] = {
    "demo": [
        (
            "维修完成 48 小时回访",
            FollowUpTrigger.REPAIR_DONE,
            48,
            None,
            "您好，我是客服，想了解一下维修后设备使用是否正常？",
        ),
        (
            "投诉解决 7 天回访",
            FollowUpTrigger.COMPLAINT_CLOSED,
            168,
            None,
            "您好，上周您反馈的问题现在是否已经彻底解决？",
        ),
        (
            "退款超过 500 元回访",
            FollowUpTrigger.REFUND_OVER,
            24,
            Decimal("500.00"),
            "您好，您的退款已到账，请问对处理过程满意吗？",
        ),
    ],
    "second": [
        ("Two days after a complaint", FollowUpTrigger.COMPLAINT_CLOSED, 48, None, "Is everything sorted now?"),
    ],
}
# The first answers of each merchant, by survey kind, in this order: the demo's low scores.
LOW_SCORES: dict[str, tuple[int, ...]] = {"csat": (1, 2), "nps": (4,)}
COMMENTS = {
    1: ["等了一周都没人处理，非常失望。", "Nobody answered for a week."],
    2: ["退款太慢了，差评。", "The replacement arrived scratched again."],
    5: ["处理很快，点赞！", "客服很耐心。", "Quick and friendly, thanks."],
    4: ["整体不错。", "Good, the refund took a day longer than promised."],
    3: ["还行吧。", "OK."],
}


class FeedbackDemoStory:
    def __init__(self, builder: DemoBuilder):
        self.rng, self.now = builder.rng, builder.now
        self.low_scores: dict[str, list[int]] = {}

    def setup(self, tenants: dict[str, Tenant]) -> None:
        for key, tenant in tenants.items():
            SurveySettings.objects.update_or_create(
                merchant=tenant.merchant,
                defaults={
                    "ces_enabled": key == "demo",
                    "nps_enabled": key == "demo",
                    "complaint_keywords": ["投诉", "差评", "complain"],
                    "csat_throttle_days": 7,
                },
            )
            for name, trigger, hours, amount, script in RULES[key]:
                FollowUpRule.objects.update_or_create(
                    merchant=tenant.merchant,
                    name=name,
                    defaults={"trigger": trigger, "delay_hours": hours, "min_amount": amount, "script": script},
                )

    def history(self, tenant: Tenant, orders: list[Order], size: DemoSize) -> None:
        merchant = tenant.merchant
        self.low_scores = {kind: list(scores) for kind, scores in LOW_SCORES.items()}
        due = Survey.objects.filter(merchant=merchant, status=SurveyStatus.SCHEDULED, send_at__lte=self.now)
        for survey in due.order_by("send_at", "id"):
            assert survey.send_at is not None  # noqa: S101 (scheduled rows have it)
            with time_machine.travel(survey.send_at, tick=False):
                survey = survey_send(survey_id=survey.pk)
            if survey.status == SurveyStatus.SENT:
                self.answer(survey)
        for deadline in (
            Deadline.objects.filter(
                merchant=merchant, kind=SURVEY_NPS, state=Deadline.State.PENDING, due_at__lte=self.now
            )
            .select_related("ticket")
            .order_by("due_at", "id")
        ):
            with time_machine.travel(deadline.due_at, tick=False):
                nps = nps_send(ticket=deadline.ticket)
            if nps is not None:
                self.answer(nps)
        self.followups(tenant)
        self.recoveries(tenant)
        # The KPI home reads rollups that beat refreshes every ten minutes; refreshed here, the
        # demo's figures are there the moment make run opens the dashboard. Feedback's story is the
        # last one told, so every case of the merchant exists by now.
        today = timezone.localdate(timezone=ZoneInfo(merchant.timezone))
        rollups_refresh(merchant=merchant, first_day=today - timedelta(days=ROLLUP_DEMO_DAYS), last_day=today)

    def answer(self, survey: Survey) -> None:
        """Six in ten answer within two days, most of them happy; the rest get their reminder."""
        assert survey.sent_at is not None  # noqa: S101 (sent)
        rng = self.rng
        if rng.random() < 0.6:
            at = survey.sent_at + timedelta(hours=rng.randint(1, 48))
            if at >= self.now:
                return
            if survey.kind == "nps":
                score = rng.choices([7, 8, 9, 10], weights=[6, 10, 14, 12])[0]
                if self.low_scores.get("nps"):
                    score = self.low_scores["nps"].pop(0)
                reasons: list[str] = []
            else:
                score = rng.choices([3, 4, 5], weights=[10, 30, 51])[0]
                if self.low_scores.get("csat"):
                    score = self.low_scores["csat"].pop(0)
                offered = list(reasons_for(survey.ticket.kind))
                reasons = rng.sample(offered[:3] if score >= 4 else offered[3:], k=1)
            comment = rng.choice(COMMENTS[score if survey.kind == "csat" else score // 2])
            technician = {}
            if survey.has_technician_questions:
                technician = {
                    name: rng.randint(3, 5)
                    for name in ("technician_punctuality", "technician_skill", "technician_courtesy")
                }
            with time_machine.travel(at, tick=False):
                survey_respond(survey=survey, score=score, reasons=reasons, comment=comment, **technician)
            return
        remind_at = survey.sent_at + timedelta(hours=72)
        if remind_at < self.now:
            with time_machine.travel(remind_at, tick=False):
                survey_remind(survey_id=survey.pk)

    def followups(self, tenant: Tenant) -> None:
        """Calls due in the past are due; those due more than a day ago were made."""
        rng = self.rng
        agents = [user for name, user in tenant.staff.items() if name.startswith("agent")] or [tenant.supervisor]
        for followup in FollowUp.objects.filter(
            merchant=tenant.merchant, status=FollowUpStatus.SCHEDULED, due_at__lte=self.now
        ).order_by("due_at", "id"):
            with time_machine.travel(followup.due_at, tick=False):
                followup_mark_due(followup_id=followup.pk)
            call_at = followup.due_at + timedelta(hours=rng.randint(1, 6))
            if call_at > self.now - timedelta(days=1):
                continue
            result = rng.choices([CallResult.SATISFIED, CallResult.NOT_REACHED], weights=[75, 25])[0]
            note = "客户表示一切正常。" if result == CallResult.SATISFIED else ""
            with time_machine.travel(call_at, tick=False):
                followup_record_call(followup=followup, actor=rng.choice(agents), result=result, note=note)

    def recoveries(self, tenant: Tenant) -> None:
        """Recovery cases opened more than two days ago were worked and closed, but the latest one,
        left open for the supervisor's queue."""
        rng = self.rng
        opened = list(
            RecoveryCase.objects.filter(
                merchant=tenant.merchant, status=RecoveryStatus.OPEN, created_at__lte=self.now - timedelta(days=2)
            ).order_by("id")
        )
        for recovery in opened[:-1]:
            closed_at: datetime = recovery.created_at + timedelta(hours=rng.randint(2, 30))
            reached = rng.random() < 0.9
            with time_machine.travel(closed_at, tick=False):
                recovery_close(
                    recovery=recovery,
                    actor=recovery.supervisor or tenant.supervisor,
                    reached=reached,
                    resolved=reached and rng.random() < 0.8,
                    compensated=reached and rng.random() < 0.4,
                    note="已致电道歉并说明处理方案。" if reached else "",
                )

    def summarize(self, summary: DemoSummary) -> None:
        """Nothing to count on the summary: the feedback pages show it."""
