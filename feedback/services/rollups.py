# ruff: noqa: S608 - the SQL is composed of constants only (columns, bucket edges); every value is a parameter.
"""Recompute the KPI rollups of whole days from the source tables (why beat and not the services:
``feedback.models.rollups``).

One transaction per merchant and range: the days' rows are deleted and inserted again from one
grouped INSERT … SELECT per rollup, so a refresh is idempotent and two refreshes of the same days
leave the same rows (the second waits on the first's row locks of the merchant's settings, see
``rollups_refresh``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from aftersales.models import Deadline, Merchant
from feedback.kpi import BUCKET_EDGES_MINUTES, BUCKETS
from feedback.models import (
    RepairDailyRollup,
    ReturnDailyRollup,
    RollupRefresh,
    SurveyDailyRollup,
    SurveyKind,
    TicketDailyRollup,
)
from feedback.reasons import DETRACTOR_TO, PROMOTER_FROM
from repairs.models import RepairMode, VisitStatus
from returns.models import ReturnStatus
from tickets.deadline_kinds import kind_of
from tickets.models import Message, SlaTarget, TicketEvent, TicketStatus

# A resolution is first-contact when no reopen and no new case of the customer's follows it
# within this many days (and it took one public reply).
FIRST_CONTACT_QUIET_DAYS = 7
NOT_RETURNED = (ReturnStatus.CANCELLED, ReturnStatus.EXPIRED)


def _histogram(bucket_column: str) -> str:
    return "ARRAY[" + ", ".join(f"count(*) FILTER (WHERE {bucket_column} = {i})" for i in range(BUCKETS)) + "]"


def _bucket(minutes_sql: str) -> str:
    return f"width_bucket({minutes_sql}, %(edges)s::float8[])"


def _minutes(later: str, earlier: str) -> str:
    return f"GREATEST(0, EXTRACT(EPOCH FROM ({later} - {earlier})) / 60.0)"


def _day(column: str) -> str:
    return f"({column} AT TIME ZONE %(zone)s)::date"


_SLA_COLUMNS = [
    (f"sla_{target}_{outcome}", target, outcome) for target in SlaTarget.values for outcome in ("met", "breached")
]
_FACT_COLUMNS = (
    "created",
    "resolved",
    "reopened",
    "fcr",
    "fr_bucket",
    "res_bucket",
    "refund_bucket",
    *[name for name, _target, _outcome in _SLA_COLUMNS],
)


def _fact(select: dict[str, str]) -> str:
    """One stream of facts: the ticket's dimensions plus the given columns, the others empty."""
    values = [select.get(column, "NULL::int" if column.endswith("bucket") else "0") for column in _FACT_COLUMNS]
    return "SELECT {day} AS day, t.store_id, t.team_id, t.assignee_id AS agent_id, t.kind, {values}".format(
        day=select["day"],
        values=", ".join(f"{value} AS {column}" for value, column in zip(values, _FACT_COLUMNS, strict=True)),
    )


def _ticket_facts_sql() -> str:
    in_range = "BETWEEN %(start)s AND %(end)s"
    reopened = (
        "e.verb = %(status_changed)s AND e.data->>'from' = %(resolved_status)s AND e.data->>'to' <> %(closed_status)s"
    )
    streams = [
        _fact({"day": _day("t.created_at"), "created": "1"})
        + f" FROM tickets_ticket t WHERE t.merchant_id = %(merchant)s AND t.created_at {in_range}",
        _fact(
            {
                "day": _day("t.first_responded_at"),
                "fr_bucket": _bucket(_minutes("t.first_responded_at", "t.created_at")),
            }
        )
        + f" FROM tickets_ticket t WHERE t.merchant_id = %(merchant)s AND t.first_responded_at {in_range}",
        _fact(
            {
                "day": _day("t.resolved_at"),
                "resolved": "1",
                "res_bucket": _bucket(_minutes("t.resolved_at", "t.created_at")),
                "fcr": f"""CASE WHEN (SELECT count(*) FROM tickets_message m
                            WHERE m.ticket_id = t.id AND m.kind = %(reply_kind)s) = 1
                      AND NOT EXISTS (SELECT 1 FROM tickets_ticketevent e WHERE e.ticket_id = t.id AND {reopened})
                      AND NOT EXISTS (SELECT 1 FROM tickets_ticket later
                            WHERE later.merchant_id = t.merchant_id AND later.customer_id = t.customer_id
                              AND later.id <> t.id AND later.created_at > t.resolved_at
                              AND later.created_at <= t.resolved_at + make_interval(days => %(quiet_days)s))
                      THEN 1 ELSE 0 END""",
            }
        )
        + f" FROM tickets_ticket t WHERE t.merchant_id = %(merchant)s AND t.resolved_at {in_range}",
        _fact({"day": _day("e.created_at"), "reopened": "1"})
        + " FROM tickets_ticketevent e JOIN tickets_ticket t ON t.id = e.ticket_id"
        + f" WHERE e.merchant_id = %(merchant)s AND e.created_at {in_range} AND {reopened}",
        _fact(
            {
                "day": _day("CASE WHEN d.state = %(met)s THEN d.met_at ELSE d.due_at END"),
                **{
                    name: f"CASE WHEN d.kind = '{kind_of(target)}' AND d.state = "
                    + ("%(met)s" if outcome == "met" else "%(fired)s")
                    + " THEN 1 ELSE 0 END"
                    for name, target, outcome in _SLA_COLUMNS
                },
            }
        )
        + " FROM aftersales_deadline d JOIN tickets_ticket t ON t.id = d.ticket_id"
        + " WHERE d.merchant_id = %(merchant)s AND d.kind LIKE 'sla.%%'"
        + f" AND ((d.state = %(met)s AND d.met_at {in_range}) OR (d.state = %(fired)s AND d.due_at {in_range}))",
        _fact(
            {
                "day": _day("paid.first_paid_at"),
                "refund_bucket": _bucket(_minutes("paid.first_paid_at", "r.submitted_at")),
            }
        )
        + " FROM returns_returnrequest r JOIN tickets_ticket t ON t.id = r.ticket_id"
        + " JOIN LATERAL (SELECT min(f.paid_at) AS first_paid_at FROM returns_refund f"
        + " WHERE f.return_request_id = r.id) paid ON TRUE"
        + f" WHERE t.merchant_id = %(merchant)s AND paid.first_paid_at {in_range}",
    ]
    sums = ", ".join(
        f"sum({column})" for column in ("created", "resolved", "reopened", "fcr", *[n for n, _t, _o in _SLA_COLUMNS])
    )
    sla_names = ", ".join(name for name, _target, _outcome in _SLA_COLUMNS)
    return f"""
INSERT INTO feedback_ticketdailyrollup
    (merchant_id, day, store_id, team_id, agent_id, kind, created, resolved, reopened, first_contact_resolved,
     {sla_names}, first_response_minutes, resolution_minutes, refund_cycle_minutes)
SELECT %(merchant)s, day, store_id, team_id, agent_id, kind, {sums},
       {_histogram("fr_bucket")}, {_histogram("res_bucket")}, {_histogram("refund_bucket")}
FROM ({" UNION ALL ".join(streams)}) facts
WHERE day BETWEEN %(first_day)s AND %(last_day)s
GROUP BY day, store_id, team_id, agent_id, kind
"""


_RETURN_FACTS_SQL = f"""
INSERT INTO feedback_returndailyrollup
    (merchant_id, day, store_id, product_id, reason_id, delivered_units, returned_units)
SELECT %(merchant)s, day, store_id, product_id, reason_id, sum(delivered), sum(returned)
FROM (
    SELECT {_day("o.delivered_at")} AS day, o.store_id, line.product_id, NULL::bigint AS reason_id,
           line.quantity AS delivered, 0 AS returned
    FROM aftersales_orderline line JOIN aftersales_order o ON o.id = line.order_id
    WHERE o.merchant_id = %(merchant)s AND o.delivered_at BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT {_day("r.submitted_at")}, o.store_id, line.product_id, r.reason_id, 0, rl.quantity
    FROM returns_returnline rl
    JOIN returns_returnrequest r ON r.id = rl.return_request_id
    JOIN aftersales_orderline line ON line.id = rl.order_line_id
    JOIN aftersales_order o ON o.id = r.order_id
    WHERE o.merchant_id = %(merchant)s AND r.submitted_at BETWEEN %(start)s AND %(end)s
      AND r.status <> ALL(%(not_returned)s)
) facts
WHERE day BETWEEN %(first_day)s AND %(last_day)s
GROUP BY day, store_id, product_id, reason_id
"""


_SURVEY_FACTS_SQL = f"""
INSERT INTO feedback_surveydailyrollup
    (merchant_id, day, store_id, team_id, agent_id, technician_id, kind, csat_sent, csat_answered, csat_score_sum,
     nps_answered, nps_promoters, nps_detractors, technician_rated, punctuality_sum, skill_sum, courtesy_sum)
SELECT %(merchant)s, day, store_id, team_id, agent_id, technician_id, kind, sum(sent), sum(csat), sum(csat_score),
       sum(nps), sum(promoter), sum(detractor), sum(rated), sum(punctuality), sum(skill), sum(courtesy)
FROM (
    SELECT {_day("s.sent_at")} AS day, t.store_id, s.team_id, s.agent_id, s.technician_id, t.kind,
           1 AS sent, 0 AS csat, 0 AS csat_score, 0 AS nps, 0 AS promoter, 0 AS detractor,
           0 AS rated, 0 AS punctuality, 0 AS skill, 0 AS courtesy
    FROM feedback_survey s JOIN tickets_ticket t ON t.id = s.ticket_id
    WHERE s.merchant_id = %(merchant)s AND s.kind = %(csat_kind)s AND s.sent_at BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT {_day("s.answered_at")}, t.store_id, s.team_id, s.agent_id, s.technician_id, t.kind,
           0,
           CASE WHEN s.kind = %(csat_kind)s THEN 1 ELSE 0 END,
           CASE WHEN s.kind = %(csat_kind)s THEN s.score ELSE 0 END,
           CASE WHEN s.kind = %(nps_kind)s THEN 1 ELSE 0 END,
           CASE WHEN s.kind = %(nps_kind)s AND s.score >= %(promoter_from)s THEN 1 ELSE 0 END,
           CASE WHEN s.kind = %(nps_kind)s AND s.score <= %(detractor_to)s THEN 1 ELSE 0 END,
           CASE WHEN s.technician_punctuality IS NOT NULL THEN 1 ELSE 0 END,
           COALESCE(s.technician_punctuality, 0), COALESCE(s.technician_skill, 0), COALESCE(s.technician_courtesy, 0)
    FROM feedback_survey s JOIN tickets_ticket t ON t.id = s.ticket_id
    WHERE s.merchant_id = %(merchant)s AND s.score IS NOT NULL AND s.answered_at BETWEEN %(start)s AND %(end)s
) facts
WHERE day BETWEEN %(first_day)s AND %(last_day)s
GROUP BY day, store_id, team_id, agent_id, technician_id, kind
"""

# Turnaround runs from the request to the device back with the customer; the technician is the
# one of the repair's last completed visit; first-time fix is one completed visit for the repair.
_REPAIR_FACTS_SQL = f"""
INSERT INTO feedback_repairdailyrollup
    (merchant_id, day, store_id, technician_id, repairs_returned, on_site_returned, first_time_fixed,
     arrivals, arrivals_on_time, turnaround_minutes)
SELECT %(merchant)s, day, store_id, technician_id, sum(returned), sum(on_site), sum(fixed_first_time),
       sum(arrival), sum(on_time), {_histogram("turnaround_bucket")}
FROM (
    SELECT {_day("r.returned_at")} AS day, t.store_id, last_visit.user_id AS technician_id, 1 AS returned,
           CASE WHEN r.mode = %(on_site)s THEN 1 ELSE 0 END AS on_site,
           CASE WHEN r.mode = %(on_site)s AND visits.completed = 1 THEN 1 ELSE 0 END AS fixed_first_time,
           0 AS arrival, 0 AS on_time, {_bucket(_minutes("r.returned_at", "r.requested_at"))} AS turnaround_bucket
    FROM repairs_repairorder r JOIN tickets_ticket t ON t.id = r.ticket_id
    LEFT JOIN LATERAL (
        SELECT profile.user_id
        FROM repairs_visit v JOIN repairs_technicianprofile profile ON profile.id = v.technician_id
        WHERE v.repair_id = r.id AND v.status = %(visit_completed)s
        ORDER BY v.checked_out_at DESC NULLS LAST, v.id DESC LIMIT 1
    ) last_visit ON TRUE
    LEFT JOIN LATERAL (
        SELECT count(*) AS completed FROM repairs_visit v WHERE v.repair_id = r.id AND v.status = %(visit_completed)s
    ) visits ON TRUE
    WHERE r.merchant_id = %(merchant)s AND r.returned_at BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT {_day("v.window_start")}, t.store_id, profile.user_id, 0, 0, 0, 1,
           CASE WHEN v.checked_in_at IS NOT NULL AND v.checked_in_at <= v.window_end THEN 1 ELSE 0 END, NULL::int
    FROM repairs_visit v JOIN repairs_repairorder r ON r.id = v.repair_id JOIN tickets_ticket t ON t.id = r.ticket_id
    LEFT JOIN repairs_technicianprofile profile ON profile.id = v.technician_id
    WHERE v.merchant_id = %(merchant)s AND v.window_start BETWEEN %(start)s AND %(end)s
      AND (v.checked_in_at IS NOT NULL OR v.status = %(visit_technician_no_show)s)
) facts
WHERE day BETWEEN %(first_day)s AND %(last_day)s
GROUP BY day, store_id, technician_id
"""


@dataclass(frozen=True)
class RollupRefreshed:
    days: int
    ticket_rows: int
    return_rows: int
    survey_rows: int = 0
    repair_rows: int = 0


def rollups_refresh(*, merchant: Merchant, first_day: date, last_day: date) -> RollupRefreshed:
    """Recompute the merchant's rollups of [first_day, last_day] (the merchant's calendar days)."""
    zone = ZoneInfo(merchant.timezone)
    params: dict[str, Any] = {
        "merchant": merchant.pk,
        "zone": merchant.timezone,
        "first_day": first_day,
        "last_day": last_day,
        # A little wider than the days, then cut by the local day: the zone's offset is applied once.
        "start": datetime.combine(first_day, time.min, tzinfo=zone),
        "end": datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone) - timedelta(microseconds=1),
        "edges": list(BUCKET_EDGES_MINUTES),
        "status_changed": TicketEvent.Verb.STATUS_CHANGED.value,
        "resolved_status": TicketStatus.RESOLVED.value,
        "closed_status": TicketStatus.CLOSED.value,
        "reply_kind": Message.Kind.REPLY.value,
        "quiet_days": FIRST_CONTACT_QUIET_DAYS,
        "met": Deadline.State.MET.value,
        "fired": Deadline.State.FIRED.value,
        "not_returned": [status.value for status in NOT_RETURNED],
        "csat_kind": SurveyKind.CSAT.value,
        "nps_kind": SurveyKind.NPS.value,
        "promoter_from": PROMOTER_FROM,
        "detractor_to": DETRACTOR_TO,
        "on_site": RepairMode.ON_SITE.value,
        "visit_completed": VisitStatus.COMPLETED.value,
        "visit_technician_no_show": VisitStatus.TECHNICIAN_NO_SHOW.value,
    }
    with transaction.atomic():
        # One refresh of a merchant at a time: the second waits here, then recomputes the same rows.
        RollupRefresh.objects.update_or_create(merchant=merchant, defaults={"refreshed_at": timezone.now()})
        TicketDailyRollup.objects.filter(merchant=merchant, day__gte=first_day, day__lte=last_day).delete()
        ReturnDailyRollup.objects.filter(merchant=merchant, day__gte=first_day, day__lte=last_day).delete()
        SurveyDailyRollup.objects.filter(merchant=merchant, day__gte=first_day, day__lte=last_day).delete()
        RepairDailyRollup.objects.filter(merchant=merchant, day__gte=first_day, day__lte=last_day).delete()
        with connection.cursor() as cursor:
            cursor.execute(_ticket_facts_sql(), params)
            ticket_rows = cursor.rowcount
            cursor.execute(_RETURN_FACTS_SQL, params)
            return_rows = cursor.rowcount
            cursor.execute(_SURVEY_FACTS_SQL, params)
            survey_rows = cursor.rowcount
            cursor.execute(_REPAIR_FACTS_SQL, params)
            repair_rows = cursor.rowcount
    return RollupRefreshed(
        days=(last_day - first_day).days + 1,
        ticket_rows=ticket_rows,
        return_rows=return_rows,
        survey_rows=survey_rows,
        repair_rows=repair_rows,
    )
