"""Playbook steps as HubSpot tasks: gate → backfill check → new keys → look up uncertain ones →
batch create, ≤ 100 per request.

A task is created once per stable key (``marts.mart_crm_tasks.task_key``: account, playbook,
step, feature, due date). Keys in ``audit.crm_task_state`` are never created again, so a task a
CSM completed or deleted stays that way. A key an earlier run sent without learning the outcome
(a crash, a lost answer, a 5xx) is first searched for in HubSpot by its ``postsale_task_key``,
so a retried batch never makes a duplicate; so is every key of a warehouse that has no task
state while HubSpot already has the key property (a lost audit schema, or a second warehouse).
Every record sent gets a row in ``audit.crm_sync_log`` (object type ``tasks``) and the run one in
``audit.crm_sync_runs`` (target ``hubspot.tasks``). A dry run sends nothing, not even reads.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import date

import psycopg
from psycopg.rows import dict_row

from connectors.http_client import HttpClient, RequestCounters
from reverse_etl import answers, backfill, gate, properties, store, task_store
from reverse_etl.diff import MartContractError
from reverse_etl.push import PushAborted, isolate
from reverse_etl.settings import Settings
from reverse_etl.sync import FAILURES, REFUSALS, TooManyFailures, too_many_failures
from reverse_etl.task_mapping import COLUMNS, KEY_PROPERTY, MART, OBJECT_TYPE, key_property_definition, task_input

log = logging.getLogger(__name__)

TARGET = f"hubspot.{OBJECT_TYPE}"
CREATE = f"/crm/v3/objects/{OBJECT_TYPE}/batch/create"
SEARCH = f"/crm/v3/objects/{OBJECT_TYPE}/search"
PROPERTIES = f"/crm/v3/properties/{OBJECT_TYPE}"
SEARCH_MAX_VALUES = 100  # HubSpot's limit on an IN filter's values
# HubSpot's search index trails writes by a few seconds to tens of seconds: a retry right after
# an attempt with an unknown outcome (Airflow retries after 30 s) waits until that attempt is at
# least this old before looking its keys up, or a task created moments ago could be missed.
SEARCH_SETTLE_SECONDS = 60


def run(
    warehouse_url: str,
    client: HttpClient | None,
    settings: Settings,
    as_of_date: date | None = None,
    sleep=time.sleep,
) -> dict:
    """Create the tasks of the due playbook steps not created yet; return the run's summary."""
    if client is None and not settings.dry_run:
        raise ValueError("a real task sync needs a HubSpot client")
    run_id = f"crm-tasks-{uuid.uuid4()}"
    started = time.monotonic()
    counters = client.counters if client else RequestCounters()
    requests_before, retries_before = counters.requests, counters.retries
    summary: dict = {"run_id": run_id, "target": TARGET, "dry_run": settings.dry_run}
    summary["as_of_date"] = as_of_date.isoformat() if as_of_date else None

    def finish(conn: psycopg.Connection, status: str, **detail) -> dict:
        summary.update(
            status=status,
            requests=counters.requests - requests_before,
            retries=counters.retries - retries_before,
            seconds=round(time.monotonic() - started, 2),
            **detail,
        )
        counts = {k: summary.get(k) for k in ("mart_rows", "sent", "succeeded", "failed")}
        counts |= {"changed": summary.get("new"), "rejected": 0}
        counts |= {"requests": summary["requests"], "retries": summary["retries"]}
        store.finish_run(conn, run_id, status, counts, summary)
        return summary

    with store.run_session(warehouse_url, run_id, TARGET, settings.dry_run, False, as_of_date) as conn:
        task_store.ensure_tables(conn)
        skip = backfill.skip_reason(conn, as_of_date, "playbook tasks")
        if skip:
            log.warning("CRM tasks: %s", skip)
            return finish(conn, "skipped_backfill", reason=skip, mart_rows=0, new=0, sent=0, succeeded=0)
        try:
            rows = _read(conn, settings, as_of_date)
            known = task_store.known_keys(conn)
            pending = [r for r in rows if r["task_key"] not in known]
            conn.commit()
            summary |= {"mart_rows": len(rows), "already_created": len(rows) - len(pending), "new": len(pending)}
            if settings.dry_run:
                sample = [task_input(r)["properties"] for r in pending[: settings.sample_size]]
                return finish(conn, "dry_run", sample=sample)
            summary.update(found_in_hubspot=0, sent=0, succeeded=0, failed=0, batches=0)
            if pending:
                pending = _drop_existing(conn, client, run_id, pending, summary, sleep)
                _send(conn, client, run_id, pending, settings, summary)
            failure = too_many_failures(conn, summary, settings, TARGET)
            if failure:
                raise TooManyFailures(failure)
        except (*REFUSALS, *FAILURES) as exc:
            conn.rollback()
            finish(conn, "refused" if isinstance(exc, REFUSALS) else "failed", error=str(exc))
            raise
        except BaseException as exc:  # the run row still says how it ended
            conn.rollback()
            with contextlib.suppress(psycopg.Error):
                finish(conn, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        return finish(conn, "succeeded" if not summary["failed"] else "partial")


def _read(conn: psycopg.Connection, settings: Settings, as_of_date: date | None) -> list[dict]:
    """The mart's rows, after the validation gate; the mart must be built for the run's day."""
    # Checked first: the gate's freshness rule reads the mart, and would fail on a missing one.
    if not conn.execute("select to_regclass(%s) is not null", (MART,)).fetchone()[0]:
        raise MartContractError(f"{MART} does not exist: build the dbt project first")
    gate.check(conn, MART, settings.required_layers, settings.fresh_layers, as_of_date)
    cols = ", ".join(COLUMNS)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(f"select {cols} from {MART} order by due_date, task_key").fetchall()
    days = {r["as_of_date"] for r in rows}
    if as_of_date is not None and days and days != {as_of_date}:
        shown = ", ".join(str(d) for d in sorted(days)[:3])
        raise MartContractError(f"{MART} was built for {shown}, not for this run's day {as_of_date}: rebuild it")
    return rows


def _drop_existing(
    conn: psycopg.Connection, client: HttpClient, run_id: str, pending: list[dict], summary: dict, sleep
) -> list[dict]:
    """Make sure the key property exists; find in HubSpot the keys that may have a task already."""
    existing = properties.existing_properties_of(client, PROPERTIES)
    had_key_property = KEY_PROPERTY in existing
    if not had_key_property:
        properties.ensure_group(client, PROPERTIES)
        properties.create(client, PROPERTIES, key_property_definition())
    keys = [r["task_key"] for r in pending]
    first_here = not conn.execute("select exists (select from audit.crm_task_state)").fetchone()[0]
    uncertain = set(keys) if (first_here and had_key_property) else task_store.attempted_keys(conn, keys)
    age = task_store.last_attempt_age(conn, sorted(uncertain)) if uncertain else None
    conn.commit()
    if not uncertain:
        return pending
    if age is not None and age < SEARCH_SETTLE_SECONDS:
        wait = SEARCH_SETTLE_SECONDS - age
        log.info("CRM tasks: waiting %.0f s for HubSpot's search to see the last attempt's tasks", wait)
        summary["settle_wait_seconds"] = round(wait, 1)
        sleep(wait)
    found = search_keys(client, sorted(uncertain))
    by_key = {r["task_key"]: r for r in pending}
    task_store.remember(
        conn,
        run_id,
        [_state(by_key[k], hubspot_id) for k, hubspot_id in found.items() if k in by_key],
        "found",
    )
    summary["found_in_hubspot"] = len(found)
    if found:
        log.info("CRM tasks: %d tasks from earlier attempts were already in HubSpot; not created again", len(found))
    return [r for r in pending if r["task_key"] not in found]


def search_keys(client: HttpClient, keys: list[str]) -> dict[str, str]:
    """key -> HubSpot task id of the live tasks carrying one of ``keys``.

    Results are checked against the keys asked for, so a server that ignores the filter costs
    pages, never a wrong match; a repeated paging cursor ends the search.
    """
    found: dict[str, str] = {}
    for start in range(0, len(keys), SEARCH_MAX_VALUES):
        chunk = keys[start : start + SEARCH_MAX_VALUES]
        wanted, after, seen = set(chunk), None, set()
        while True:
            body = {
                "filterGroups": [{"filters": [{"propertyName": KEY_PROPERTY, "operator": "IN", "values": chunk}]}],
                "properties": [KEY_PROPERTY],
                "limit": 100,
                **({"after": after} if after else {}),
            }
            resp = client.request("POST", SEARCH, json=body)
            answer = answers.json_object(resp, "POST", SEARCH)
            for task in answers.records(answer, "results", "POST", SEARCH, resp.status_code):
                key = (task.get("properties") or {}).get(KEY_PROPERTY)
                if key in wanted and task.get("id") is not None:
                    found.setdefault(key, str(task["id"]))
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after or after in seen:
                break
            seen.add(after)
    return found


def _send(
    conn: psycopg.Connection, client: HttpClient, run_id: str, rows: list[dict], settings: Settings, summary: dict
) -> None:
    size = settings.batch_size
    for number, start in enumerate(range(0, len(rows), size), start=1):
        batch = rows[start : start + size]
        store.log_sent(conn, run_id, OBJECT_TYPE, number, [(r["task_key"], task_input(r)["properties"]) for r in batch])
        try:
            outcomes = create(client, batch)
        except PushAborted as exc:
            _record(conn, run_id, number, batch, exc.outcomes, summary)
            raise
        _record(conn, run_id, number, batch, outcomes, summary)
        summary["batches"] = number
    if summary["failed"]:
        failed, sent = summary["failed"], summary["sent"]
        log.warning("CRM tasks: %d of %d tasks failed; they are retried on the next run", failed, sent)


def _record(conn, run_id: str, number: int, batch: list[dict], outcomes: list[dict], summary: dict) -> None:
    by_key = {r["task_key"]: r for r in batch}
    store.record_outcomes(conn, run_id, OBJECT_TYPE, number, outcomes, advance_state=False)
    created = [_state(by_key[o["id"]], o["hubspot_id"]) for o in outcomes if o["status"] == "succeeded"]
    task_store.remember(conn, run_id, created, "created")
    summary["sent"] += len(outcomes)
    summary["succeeded"] += len(created)
    summary["failed"] += sum(o["status"] == "failed" for o in outcomes)


def _state(row: dict, hubspot_id: str) -> dict:
    return {
        "task_key": row["task_key"],
        "hubspot_task_id": hubspot_id,
        "company_id": row["company_id"],
        "due_date": row["due_date"],
    }


def create(client: HttpClient, rows: list[dict]) -> list[dict]:
    """Outcomes ``{id: task key, status, properties, hubspot_id, error}`` of one batch create.

    A batch refused with a 4xx is split in halves until the bad inputs are isolated; auth
    failures and exhausted retries (429/5xx/network) abort the run: every later batch would
    fail the same way, and the keys sent are looked up before they are sent again.
    """

    def send(batch: list[dict]) -> list[dict]:
        inputs = [task_input(r) for r in batch]
        resp = client.request("POST", CREATE, json={"inputs": inputs})
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        return outcomes(inputs, answer)

    return isolate(send, rows, lambda row, error: _outcome(task_input(row), "failed", None, error))


def outcomes(inputs: list[dict], answer) -> list[dict]:
    """Match a 201/207 answer to the inputs by the key property (or the write trace id).

    An input in neither the results nor the errors failed with an unknown effect: the next run
    searches for its key before creating it again.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("results") or [], list):
        error = {"message": "HubSpot's answer was malformed (not a batch result); the keys are looked up next run"}
        return [_outcome(i, "failed", None, error) for i in inputs]
    created: dict[str, str] = {}
    for r in answer.get("results") or []:
        if not isinstance(r, dict) or r.get("id") is None:
            continue
        key = (r.get("properties") or {}).get(KEY_PROPERTY) or r.get("objectWriteTraceId")
        if key:
            created[str(key)] = str(r["id"])
    errors: dict[str, dict] = {}
    for err in answer.get("errors") or []:
        if not isinstance(err, dict):
            continue
        context = err.get("context") if isinstance(err.get("context"), dict) else {}
        detail = {k: err.get(k) for k in ("category", "message") if err.get(k) is not None}
        for trace in _listed(context.get("objectWriteTraceId")):
            errors[str(trace)] = detail
        for index in _listed(context.get("inputIndex")):
            if str(index).isdigit() and int(index) < len(inputs):
                errors[inputs[int(index)]["objectWriteTraceId"]] = detail
    out = []
    for i in inputs:
        key = i["objectWriteTraceId"]
        if key in created:
            out.append(_outcome(i, "succeeded", created[key], None))
        else:
            error = errors.get(key) or {"message": "not in HubSpot's results or errors"}
            out.append(_outcome(i, "failed", None, error))
    return out


def _listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _outcome(inp: dict, status: str, hubspot_id: str | None, error: dict | None) -> dict:
    return {
        "id": inp["objectWriteTraceId"],
        "status": status,
        "properties": inp["properties"],
        "hubspot_id": hubspot_id,
        "error": error,
    }
