import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")

app = Celery("aftersales")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work is declared here and nowhere else.
app.conf.beat_schedule = {
    "notifications-flush": {
        "task": "aftersales.tasks.notifications_flush",
        "schedule": 60.0,
    },
}
