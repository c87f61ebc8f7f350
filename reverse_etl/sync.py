"""One reverse ETL run: gate → diff → guardrail → (dry run stops here) → properties → batches.

Every run gets a row in ``audit.crm_sync_runs`` whatever happens to it (refused by a run
already holding the lock, crashed, killed: swept as ``abandoned`` by the next run); every record
sent or rejected gets a row in ``audit.crm_sync_log``; only records HubSpot accepted advance
``audit.crm_sync_state``. A run in which more than ``max_failure_share`` of the records sent
failed is ``failed`` and raises ``TooManyFailures`` (the DAG task fails and alerts).
A dry run sends no HTTP request at all, not even reads.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import date

import psycopg

from connectors.http_client import HttpClient, RequestCounters, SourceHttpError
from reverse_etl import answers, backfill, gate, properties, store
from reverse_etl.diff import MartContractError, Plan, plan, read_mart
from reverse_etl.mapping import MART, OBJECT_TYPE, SENTINEL
from reverse_etl.push import PushAborted, push
from reverse_etl.settings import Settings

log = logging.getLogger(__name__)

TARGET = f"hubspot.{OBJECT_TYPE}"


class GuardrailTripped(RuntimeError):
    """Too many companies would change (or a first sync would overwrite values): needs --force."""


class TooManyFailures(RuntimeError):
    """More of the sent records failed than ``max_failure_share`` allows: an outage, not bad records."""


# Refusals: the run did not touch HubSpot's values. Failures: it stopped part-way, or mostly failed.
REFUSALS = (gate.ValidationGateClosed, GuardrailTripped, MartContractError, properties.PropertyConflict)
FAILURES = (PushAborted, SourceHttpError, TooManyFailures, store.SyncAlreadyRunning)


def run(warehouse_url: str, client: HttpClient | None, settings: Settings, as_of_date: date | None = None) -> dict:
    """Run one sync and return its JSON-able summary; raise when refused, aborted or mostly failed.

    ``client`` may be None for a dry run, which sends nothing (so needs no HubSpot credential).
    ``as_of_date`` is the pipeline run's day: a day before the newest scored day is a backfill,
    which sends nothing (``reverse_etl.backfill``); the mart must hold that day's scores.
    """
    if client is None and not settings.dry_run:
        raise ValueError("a real reverse ETL run needs a HubSpot client")
    run_id = f"reverse-etl-{uuid.uuid4()}"
    started = time.monotonic()
    counters = client.counters if client else RequestCounters()
    requests_before, retries_before = counters.requests, counters.retries
    summary: dict = {"run_id": run_id, "target": TARGET, "dry_run": settings.dry_run, "forced": settings.force}

    def finish(conn: psycopg.Connection, status: str, **detail) -> dict:
        summary.update(
            status=status,
            requests=counters.requests - requests_before,
            retries=counters.retries - retries_before,
            seconds=round(time.monotonic() - started, 2),
            **detail,
        )
        counts = {k: summary.get(k) for k in ("mart_rows", "changed", "sent", "succeeded", "failed", "rejected")}
        counts |= {"requests": summary["requests"], "retries": summary["retries"]}
        store.finish_run(conn, run_id, status, counts, summary)
        return summary

    with store.run_session(warehouse_url, run_id, TARGET, settings.dry_run, settings.force, as_of_date) as conn:
        summary["as_of_date"] = as_of_date.isoformat() if as_of_date else None
        skip = backfill.skip_reason(conn, as_of_date, "company scores")
        if skip:
            log.warning("reverse ETL: %s", skip)
            return finish(conn, "skipped_backfill", reason=skip, mart_rows=0, changed=0, sent=0)
        try:
            _check_score_date(conn, as_of_date)
            dry_run = _plan_and_send(conn, client, run_id, settings, summary, as_of_date)
            if dry_run is not None:
                return finish(conn, "dry_run", **dry_run)
            failure = too_many_failures(conn, summary, settings)
            if failure:
                raise TooManyFailures(failure)
        except REFUSALS as exc:
            conn.rollback()
            finish(conn, "refused", error=str(exc))
            raise
        except FAILURES as exc:
            conn.rollback()
            finish(conn, "failed", error=str(exc))
            raise
        except BaseException as exc:  # a bug, a lost connection, Ctrl-C: the row still says how it ended
            error = f"{type(exc).__name__}: {exc}"
            _finish_anyway(warehouse_url, conn, lambda c: finish(c, "failed", error=error))
            raise
        status = "succeeded" if not (summary["failed"] or summary["rejected"]) else "partial"
        return finish(conn, status)


def _plan_and_send(
    conn: psycopg.Connection,
    client: HttpClient,
    run_id: str,
    settings: Settings,
    summary: dict,
    as_of_date: date | None = None,
) -> dict | None:
    """Gate, diff, guardrail, then send; fills ``summary``. A dry run sends nothing and returns
    what it reports besides the counts (guardrail verdict, samples); a real run returns None."""
    summary["validated_runs"] = gate.check(conn, MART, settings.required_layers, settings.fresh_layers, as_of_date)
    diff = plan(read_mart(conn, MART), store.load_state(conn, OBJECT_TYPE))
    conn.commit()  # end the read transaction: batches below commit one by one
    summary |= {
        "mart_rows": diff.mart_rows,
        "changed": len(diff.changes),
        "change_share": round(diff.change_share, 4),
        "material_change_share": round(diff.material_share(settings.material_points), 4),
        "rejected": len(diff.rejected),
        "first_sync": diff.first_sync,
    }
    if settings.dry_run:
        return {
            "guardrail": _guardrail_preview(diff, settings),
            "sample": diff.sample(settings.sample_size),
            "rejected_sample": diff.rejected[: settings.sample_size],
        }
    summary.update(sent=0, succeeded=0, failed=0, batches=0)
    if diff.changes:  # nothing changed: not a single request, not even the property check
        existing = properties.existing_properties(client)
        _guardrail(diff, settings, client, existing)
        summary["properties"] = properties.ensure(client, existing).as_dict()
    if diff.rejected:
        store.record_outcomes(conn, run_id, OBJECT_TYPE, None, [_rejected(r) for r in diff.rejected])
    _send(conn, client, run_id, diff, settings, summary)
    return None


def _check_score_date(conn: psycopg.Connection, as_of_date: date | None) -> None:
    """The mart must hold the run's day: scores of another day would be sent as today's."""
    if as_of_date is None:
        return
    days = [d for (d,) in conn.execute(f"select distinct score_date from {MART}").fetchall()]
    conn.commit()
    if days and days != [as_of_date]:
        shown = ", ".join(str(d) for d in sorted(days)[:3])
        raise MartContractError(f"{MART} holds scores for {shown}, not for this run's day {as_of_date}: rebuild it")


def too_many_failures(conn: psycopg.Connection, summary: dict, settings: Settings, target: str = TARGET) -> str | None:
    """The failure line (counts and share only, never a record), or None when within the limit.

    A record that failed on its previous run too, when that run ended ``partial``, is a known bad
    record being retried, not a sign of an outage: it is left out of the share, so one bad record
    retried alone does not fail every run. Records of a failed run count again: a retry of an
    outage (Airflow's task retry) fails again rather than turning green.
    """
    sent, failed, again = store.outcome_counts(conn, summary["run_id"])
    fresh, fresh_failed = sent - again, failed - again
    share = fresh_failed / fresh if fresh else 0.0
    if share <= settings.max_failure_share:
        return None
    retried = f", not counting {again} known bad ones that failed on their previous run too" if again else ""
    return (
        f"{target}: {fresh_failed} of {fresh} records sent failed ({share:.0%}{retried}), above the "
        f"{settings.max_failure_share:.0%} limit (REVERSE_ETL_MAX_FAILURE_SHARE); they are retried on the next run "
        f"(audit.crm_sync_log, run {summary['run_id']})"
    )


def _finish_anyway(url: str, conn: psycopg.Connection, finish) -> None:
    """Record the run's end on its connection, or on a new one when that connection is broken."""
    try:
        conn.rollback()
        finish(conn)
        return
    except psycopg.Error:
        pass
    try:
        with psycopg.connect(url) as fresh:
            finish(fresh)
    except psycopg.Error as exc:  # the next run's sweep marks it abandoned
        log.warning("reverse ETL: could not record the end of the run (%s)", type(exc).__name__)


def _send(
    conn: psycopg.Connection, client: HttpClient, run_id: str, diff: Plan, settings: Settings, summary: dict
) -> None:
    """Push the changes batch by batch, committing each batch's outcomes as soon as HubSpot answers."""
    size = settings.batch_size
    for number, start in enumerate(range(0, len(diff.changes), size), start=1):
        batch = diff.changes[start : start + size]
        # Logged before the request: if the answer is lost (a crash, a kill), the log still says what went.
        store.log_sent(conn, run_id, OBJECT_TYPE, number, [(c.id, c.properties) for c in batch])
        try:
            outcomes = push(client, batch)
        except PushAborted as exc:
            store.record_outcomes(conn, run_id, OBJECT_TYPE, number, exc.outcomes)
            _count(summary, exc.outcomes)
            raise
        store.record_outcomes(conn, run_id, OBJECT_TYPE, number, outcomes)
        _count(summary, outcomes)
        summary["batches"] = number
    if summary["failed"]:
        log.warning(
            "hubspot: %d of %d companies failed; they are retried on the next run", summary["failed"], summary["sent"]
        )


def _count(summary: dict, outcomes: list[dict]) -> None:
    summary["sent"] += len(outcomes)
    summary["succeeded"] += sum(o["status"] == "succeeded" for o in outcomes)
    summary["failed"] += sum(o["status"] == "failed" for o in outcomes)


def _rejected(r: dict) -> dict:
    return {"id": r["id"], "status": "rejected", "properties": r["row"], "error": {"message": r["error"]}}


def _too_many(diff: Plan, settings: Settings) -> str | None:
    points = settings.material_points
    share = diff.material_share(points)
    if diff.first_sync or share <= settings.max_change_share:
        return None
    return (
        f"{round(share * diff.mart_rows)} of {diff.mart_rows} companies ({share:.0%}) would change materially "
        f"(a category, or a number by {points:g}+, REVERSE_ETL_MATERIAL_POINTS), more than the "
        f"{settings.max_change_share:.0%} limit (REVERSE_ETL_MAX_CHANGE_SHARE): check the mart, then rerun "
        "with --force"
    )


def _guardrail_preview(diff: Plan, settings: Settings) -> str:
    if diff.first_sync:
        return "first sync: a real run checks HubSpot for values a lost sync state would overwrite"
    reason = _too_many(diff, settings)
    if reason:
        return ("forced past: " if settings.force else "would abort: ") + reason
    return "ok"


def _guardrail(diff: Plan, settings: Settings, client: HttpClient, existing: dict[str, dict]) -> None:
    """Abort big rewrites unless forced.

    After the first sync the limit is a share of the mart's companies. A first sync (no
    accepted state in this warehouse) changes everything by definition, so the share says
    nothing; it is allowed when HubSpot holds none of our values yet (nothing to overwrite)
    and needs --force when it does: that is a warehouse that lost its sync state, or a second
    warehouse writing into the same portal.
    """
    if settings.force:
        return
    reason = _too_many(diff, settings)
    if reason:
        raise GuardrailTripped(reason)
    if diff.first_sync and diff.changes and SENTINEL.name in existing:
        carrying = _companies_with(client, SENTINEL.name)
        if carrying:
            raise GuardrailTripped(
                f"first sync from this warehouse, but {carrying} HubSpot companies already carry "
                f"{SENTINEL.name}: their values would be overwritten without a sync state to compare; "
                "rerun with --force if this warehouse is the rightful writer"
            )


def _companies_with(client: HttpClient, prop: str) -> int:
    body = {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": "HAS_PROPERTY"}]}],
        "properties": [prop],
        "limit": 1,
    }
    path = f"/crm/v3/objects/{OBJECT_TYPE}/search"
    total = answers.json_object(client.request("POST", path, json=body), "POST", path).get("total", 0)
    if not isinstance(total, int):
        raise SourceHttpError("hubspot", "POST", path, None, "malformed answer ('total' is not a number)")
    return total
