import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work is declared here and nowhere else.
app.conf.beat_schedule = {
    "deadlines-sweep": {
        "task": "aftersales.tasks.deadlines_sweep",
        "schedule": float(os.environ.get("DEADLINE_SWEEP_SECONDS", "30")),
        # A sweep that could not start within one interval is replaced by the next one.
        "options": {"expires": float(os.environ.get("DEADLINE_SWEEP_SECONDS", "30"))},
    },
    # Messages written with ``notifications_deferred`` (a portal return's acknowledgement) go out
    # with this flush rather than a task each: within this many seconds.
    "notifications-flush": {
        "task": "aftersales.tasks.notifications_flush",
        "schedule": float(os.environ.get("NOTIFICATIONS_FLUSH_SECONDS", "10")),
        "options": {"expires": float(os.environ.get("NOTIFICATIONS_FLUSH_SECONDS", "10"))},
    },
    # Hourly, so each run deletes about an hour's worth of records rather than a day's at once.
    "idempotency-records-purge": {
        "task": "aftersales.tasks.idempotency_records_purge",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # Refund payments that stalled (a lost task, a worker that died mid-call), paid under the key
    # stored at their grant (see returns.services.refunds_redrive_stalled).
    "refunds-redrive-stalled": {
        "task": "returns.tasks.refunds_redrive_stalled_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Files whose transaction rolled back after they were written (see attachment_orphans_sweep).
    "attachment-orphans-sweep": {
        "task": "tickets.tasks.attachment_orphans_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # Background exports: files past EXPORT_KEEP_HOURS deleted, stalled jobs failed.
    "export-jobs-sweep": {
        "task": "aftersales.tasks.export_jobs_sweep",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # Polling rather than IMAP IDLE: see tickets.services.mail.
    "mailboxes-fetch": {
        "task": "tickets.tasks.mailboxes_fetch",
        "schedule": float(os.environ.get("MAILBOX_FETCH_SECONDS", "60")),
        "options": {"expires": 60.0},
    },
    # The KPI rollups (feedback.models.rollups): today and yesterday every ten minutes, and the
    # last 35 days nightly; the quality early-warning run each morning.
    "kpi-rollups-recent": {
        "task": "feedback.tasks.rollups_refresh_recent",
        "schedule": 600.0,
        "options": {"expires": 600.0},
    },
    "kpi-rollups-month": {
        "task": "feedback.tasks.rollups_refresh_month",
        "schedule": crontab(hour=2, minute=30),
    },
    "quality-runs": {
        "task": "feedback.tasks.quality_runs",
        "schedule": crontab(hour=5, minute=0),
    },
    # Each merchant's next day of technician visits planned in its own evening (hourly: time zones differ).
    "repairs-evening-plans": {
        "task": "repairs.tasks.dispatch_evening_plans",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}
