"""Business alerts to a Slack-compatible incoming webhook: each event of ``marts.fct_account_alerts``
once, ever (``audit.alert_deliveries``), as its own message or in a digest.

Never blocks the pipeline: a webhook that is down, refuses or times out leaves the alerts
``failed`` (tried again next run) and the run returns a summary with ``status`` ``partial`` or
``failed``; it never raises for delivery. Transient answers (429 after ``Retry-After``, 5xx,
network errors) are retried a few times with backoff; a 4xx is the webhook refusing (a revoked
hook, a payload it rejects) and is not retried within the run. Nothing is sent without a webhook
(``not_configured``, nothing recorded, so turning alerts on later sends the window's events),
on a dry run, or for a backfill of a past day. The webhook URL holds its secret: no message,
log line or summary names it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import date

import psycopg
import requests
from psycopg.rows import dict_row

from reverse_etl import alert_store, backfill, gate, store
from reverse_etl.settings import Settings
from reverse_etl.slack_message import alert_message, digest_messages

log = logging.getLogger(__name__)

MART = "marts.fct_account_alerts"
COLUMNS = (
    "alert_id, as_of_date, event_type, event_date, company_id, account_name, arr_usd, owner_id, owner_name, "
    "alert_title, event_detail, drivers, report_page"
)
TRANSIENT = {429, 500, 502, 503, 504}
LOCK_TARGET = "webhook.alerts"
EPISODES = ("health_red", "renewal_at_risk")  # events that last; the others are one-off facts
HOOK_GONE = {401, 403, 404, 410}  # the hook itself is refused: every later message would be too


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class AlertSettings:
    """``webhook_url``: ``POSTSALE_BUSINESS_ALERT_WEBHOOK_URL``, else ``POSTSALE_ALERT_WEBHOOK_URL`` (the
    failure alerts' hook); ``digest``: ``POSTSALE_ALERT_DIGEST``; ``reports_url``: ``POSTSALE_REPORTS_URL``."""

    webhook_url: str | None = None
    digest: bool = False
    reports_url: str = "http://127.0.0.1:8088"
    max_attempts: int = 4
    # A health or renewal alert for an account that had one of the same type sent less than this
    # many days before is the same episode (the daily marts rescore their last days, which can
    # move the day an episode began): recorded ``superseded``, not sent again.
    same_episode_days: int = 7
    max_wait_seconds: float = 30.0
    timeout_seconds: float = 10.0
    dry_run: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> AlertSettings:
        env = os.environ if env is None else env
        values = {
            "webhook_url": env.get("POSTSALE_BUSINESS_ALERT_WEBHOOK_URL") or env.get("POSTSALE_ALERT_WEBHOOK_URL"),
            "digest": _flag(env.get("POSTSALE_ALERT_DIGEST")),
            "reports_url": env.get("POSTSALE_REPORTS_URL") or cls.reports_url,
        }
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})


def run(
    warehouse_url: str,
    as_of_date: date | None,
    settings: AlertSettings,
    gate_settings: Settings | None = None,
    sleep=time.sleep,
) -> dict:
    """Send the run's new alerts; return ``{status, events, new, sent, failed, already_sent, requests, …}``.

    ``gate_settings``: the validation gate's layers, as for the CRM sync (default: from the environment).
    """
    started = time.monotonic()
    summary: dict = {
        "run_id": f"alerts-{uuid.uuid4()}",
        "as_of_date": as_of_date.isoformat() if as_of_date else None,
        "digest": settings.digest,
        "requests": 0,
        "sent": 0,
        "failed": 0,
    }

    def done(status: str, **detail) -> dict:
        return summary | detail | {"status": status, "seconds": round(time.monotonic() - started, 2)}

    try:
        with store.run_lock(warehouse_url, LOCK_TARGET), psycopg.connect(warehouse_url) as conn:
            alert_store.ensure_tables(conn)
            skip = backfill.skip_reason(conn, as_of_date, "alerts")
            if skip:
                log.warning("alerts: %s", skip)
                return done("skipped_backfill", reason=skip)
            if not conn.execute("select to_regclass(%s) is not null", (MART,)).fetchone()[0]:
                raise LookupError(f"{MART} does not exist: build the dbt project first")
            cfg = gate_settings or Settings.from_env()
            gate.check(conn, MART, cfg.required_layers, cfg.fresh_layers, as_of_date)
            alerts = _read(conn, as_of_date)
            already = alert_store.sent_ids(conn)
            conn.commit()
            new = [a for a in alerts if a["alert_id"] not in already]
            repeats = alert_store.same_episode(conn, new, EPISODES, settings.same_episode_days)
            conn.commit()
            summary |= {"events": len(alerts), "already_sent": len(alerts) - len(new), "same_episode": len(repeats)}
            new = [a for a in new if a["alert_id"] not in repeats]
            summary["new"] = len(new)
            if not settings.webhook_url:
                return done("not_configured")
            messages = _messages(new, as_of_date, settings)
            if settings.dry_run:
                return done("dry_run", messages=len(messages), sample=[m for _, m in messages[:3]])
            alert_store.supersede(conn, summary["run_id"], [a for a in alerts if a["alert_id"] in repeats])
            _deliver(conn, messages, settings, summary, sleep)
    except store.SyncAlreadyRunning:  # the other run sends them; two would send each twice
        log.warning("alerts: another run is sending alerts; this one sends none")
        return done("already_running")
    except (psycopg.Error, gate.ValidationGateClosed, LookupError) as exc:
        # Never block: the run says what failed, in one line without a record or the URL.
        reason = str(exc).splitlines()[0][:300] if not isinstance(exc, psycopg.Error) else type(exc).__name__
        log.warning("alerts: not sent (%s)", reason)
        return done("failed", error=reason)
    if summary["failed"]:
        log.warning("alerts: %d of %d alerts not delivered; tried again next run", summary["failed"], summary["new"])
    return done("partial" if summary["failed"] and summary["sent"] else "failed" if summary["failed"] else "sent")


def _read(conn: psycopg.Connection, as_of_date: date | None) -> list[dict]:
    where, args = ("where as_of_date = %s", (as_of_date,)) if as_of_date else ("", ())
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"select {COLUMNS} from {MART} {where} order by event_date, alert_id", args).fetchall()


def _messages(alerts: list[dict], as_of_date: date | None, settings: AlertSettings) -> list[tuple[list[dict], dict]]:
    if settings.digest:
        day = as_of_date.isoformat() if as_of_date else "today"
        return digest_messages(alerts, day, settings.reports_url)
    return [([a], alert_message(a, settings.reports_url)) for a in alerts]


def _deliver(conn, messages, settings: AlertSettings, summary: dict, sleep) -> None:
    """POST each message; record its alerts' outcome at once. A refusing webhook stops the run."""
    with requests.Session() as session:
        for i, (carried, message) in enumerate(messages):
            ok, attempts, error = _post(session, message, settings, summary, sleep)
            alert_store.record(conn, summary["run_id"], carried, ok, attempts, error)
            summary["sent" if ok else "failed"] += len(carried)
            if not ok and error and error.startswith("hook refused"):
                rest = [a for c, _ in messages[i + 1 :] for a in c]
                alert_store.record(conn, summary["run_id"], rest, False, 0, error)
                summary["failed"] += len(rest)
                return


def _post(session, message: dict, settings: AlertSettings, summary: dict, sleep) -> tuple[bool, int, str | None]:
    """(delivered, attempts, error): error names a status or an exception class, never the URL."""
    error = None
    for attempt in range(1, settings.max_attempts + 1):
        summary["requests"] += 1
        try:
            resp = session.post(settings.webhook_url, json=message, timeout=settings.timeout_seconds)
        except requests.RequestException as exc:
            error, wait = f"network: {type(exc).__name__}", 2 ** (attempt - 1)
        else:
            if 200 <= resp.status_code < 300:
                return True, attempt, None
            answer = resp.text.strip()[:40] if resp.headers.get("Content-Type", "").startswith("text/") else ""
            if resp.status_code in HOOK_GONE:
                return False, attempt, f"hook refused: HTTP {resp.status_code} {answer}".strip()
            if resp.status_code not in TRANSIENT:  # this message refused (e.g. 400 invalid_blocks)
                return False, attempt, f"message refused: HTTP {resp.status_code} {answer}".strip()
            error, wait = f"HTTP {resp.status_code}", _retry_after(resp, attempt)
        if attempt < settings.max_attempts:
            sleep(min(wait, settings.max_wait_seconds))
    return False, settings.max_attempts, error


def _retry_after(resp: requests.Response, attempt: int) -> float:
    try:
        return max(0.0, float(resp.headers.get("Retry-After", "")))
    except ValueError:
        return float(2 ** (attempt - 1))
