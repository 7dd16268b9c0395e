"""Tasks queued after commit, where a broker that refuses is logged, never the caller's error.

By the time an ``on_commit`` callback runs, the work is committed to PostgreSQL; the task is a
nudge to do it now. If the broker cannot take it (Redis down, a network blip), raising would turn a
saved return into a 500 for the customer, though nothing was lost: the periodic jobs (the
notifications flush, the deadline sweep) pick the committed rows up.
"""

import logging
from functools import partial

from celery import Task
from django.db import transaction

logger = logging.getLogger("aftersales.enqueue")

# One quick retry, then the periodic job: a request must not wait on a broker that is away.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task: Task, *args) -> None:
    if task.app.conf.task_always_eager:
        # Tests run the task in the caller, and its errors are the test's to see.
        task.apply_async(args)
        return
    try:
        task.apply_async(args, retry=True, retry_policy=RETRY_POLICY)
    except Exception:
        # Whatever the transport raises (kombu's OperationalError, redis' ConnectionError, OSError).
        logger.warning("Task %s%r could not be queued; a periodic job will do its work", task.name, args, exc_info=True)


def enqueue_on_commit(task: Task, *args) -> None:
    """``task.delay(*args)`` once the current transaction commits, robust to the broker."""
    transaction.on_commit(partial(enqueue, task, *args))
