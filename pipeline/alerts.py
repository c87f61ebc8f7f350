"""Failure alerts: a task callback that POSTs a JSON summary to a webhook (Slack, Teams, PagerDuty
Events, or anything that accepts JSON).

Configured by ``POSTSALE_ALERT_WEBHOOK_URL`` (unset: alerts are only logged). The payload names
the DAG, task, run, try and the error, and never includes Connection secrets: the error text is
what our code raised, which already names source / model / suite without credentials, reduced
to one line by ``pipeline.errors.one_line`` (driver errors rebuilt, any credential the
environment holds masked) in case a library's error quotes one.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def failure_payload(context: dict) -> dict:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    exc = context.get("exception")
    if exc is not None:
        from pipeline.errors import one_line

        reason = one_line(exc, limit=1900) if isinstance(exc, BaseException) else str(exc)
    else:
        reason = None
    return {
        "event": "postsale.task_failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(dag_run, "run_id", None) or getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "logical_date": str(context.get("logical_date")) if context.get("logical_date") else None,
        "error": f"{type(exc).__name__}: {reason}"[:2000] if exc else None,
        "text": f"postsale: {getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')} failed: {reason}"[:2000],
    }


def notify_failure(context: dict) -> None:
    """``on_failure_callback`` for every task: log, then POST to the webhook when configured."""
    payload = failure_payload(context)
    log.error("task failed: %s", payload["text"])
    url = os.environ.get("POSTSALE_ALERT_WEBHOOK_URL")
    if not url:
        return
    import requests

    try:
        requests.post(url, json=payload, timeout=10).raise_for_status()
    except requests.RequestException as exc:  # an alert must never mask the task's own failure
        log.warning("failure webhook did not accept the alert: %s", type(exc).__name__)
