"""Queueing a task from a request, where the broker must never turn a committed change into an
error page.

Every task a request queues after its commit has a durable record behind it (an outbox row, an
offer row) and a sweeper that queues what was left: the publish is only the fast path. So a
publish that fails (the broker down, unreachable, out of memory; the embedded transport's
folder not writable) is logged and forgotten, and the settings make it fail within a second or
two rather than retry for long (CELERY_BROKER_CONNECTION_TIMEOUT, the publish retry policy and
the Redis socket timeouts in consultancy/settings.py).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

log = logging.getLogger(__name__)


def try_to_queue(task: Task[Any, Any], *args: Any) -> bool:
    """Queue `task(*args)`; False, logged, when the broker would not take it."""
    try:
        task.delay(*args)
    except Exception:
        # Anything at all: this runs after a commit, where an exception is a 500 for a change
        # that was made. The sweeper queues the work once the broker is back.
        log.warning("could not queue %s; the sweeper will", task.name, exc_info=True)
        return False
    return True
