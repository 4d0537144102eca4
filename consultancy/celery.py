"""The Celery application: JSON only, late acks, one message prefetched at a time.

acks_late + prefetch 1 means a task whose worker dies (SIGKILL, OOM, deploy) is redelivered to
another worker instead of being lost; tasks are therefore written to be idempotent (an atomic
state claim guards every side effect).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consultancy.settings")

app = Celery("consultancy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    # A task killed by the hard limit or by a dying worker is redelivered, not acknowledged.
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
