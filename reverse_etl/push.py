"""Send changed companies with HubSpot's batch update and turn its answer into per-record outcomes.

HubSpot answers a batch update with 200 (all updated) or 207 multi-status: ``results`` holds
the updated objects and ``errors`` one ``StandardError`` per failed input, naming the failed
ids in ``context.ids`` (or ``context.id``). A record in neither list is counted as failed, so
it is retried rather than assumed written. A whole batch refused with a 4xx (one bad value can
do that on the real API) is split in halves until the offending records are isolated; auth
failures and exhausted retries (429/5xx/network) stop the run, because every later batch would
fail the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from connectors.http_client import HttpClient, SourceHttpError
from reverse_etl.diff import Change
from reverse_etl.mapping import OBJECT_TYPE

log = logging.getLogger(__name__)

PATH = f"/crm/v3/objects/{OBJECT_TYPE}/batch/update"


class PushAborted(RuntimeError):
    """HubSpot cannot take writes right now (auth, or retries exhausted): outcomes so far are kept."""

    def __init__(self, message: str, outcomes: list[dict]) -> None:
        super().__init__(message)
        self.outcomes = outcomes


def _fatal(exc: SourceHttpError) -> bool:
    return exc.status is None or exc.status in (401, 403, 429) or exc.status >= 500


def push(client: HttpClient, changes: list[Change]) -> list[dict]:
    """Outcomes ``{id, status, properties, fingerprint, error}`` for one batch (≤ 100 changes)."""

    def send(batch: list[Change]) -> list[dict]:
        body = {"inputs": [{"id": c.id, "properties": c.properties} for c in batch]}
        resp = client.request("POST", PATH, json=body)
        try:
            answer = resp.json()
        except ValueError:  # the writes may have been applied: every record is failed, so retried
            answer = None
        return outcomes(batch, answer)

    return isolate(send, changes, lambda change, error: _outcome(change, "failed", error))


def isolate(send: Callable[[list], list[dict]], items: list, failed: Callable[[object, dict], dict]) -> list[dict]:
    """``send(items)``'s outcomes. A batch refused whole with a 4xx is split in halves until the bad
    items are isolated (each fails alone); auth failures and exhausted retries raise PushAborted
    carrying the outcomes so far, every unsent item failed."""
    try:
        return send(items)
    except SourceHttpError as exc:
        error = {"status": exc.status, "message": str(exc)}
        if _fatal(exc):
            raise PushAborted(str(exc), [failed(i, error) for i in items]) from exc
        if len(items) == 1:
            return [failed(items[0], error)]
        mid = len(items) // 2
        log.warning("hubspot: batch of %d refused (%s); splitting to isolate the bad records", len(items), exc)
        first = isolate(send, items[:mid], failed)
        try:
            return first + isolate(send, items[mid:], failed)
        except PushAborted as aborted:
            raise PushAborted(str(aborted), first + aborted.outcomes) from aborted


def outcomes(changes: list[Change], answer) -> list[dict]:
    """Match HubSpot's 200/207 answer to the inputs sent; an answer of the wrong shape fails them all."""
    if not _well_formed(answer):
        error = {"message": "HubSpot's answer was malformed (not a batch result); the records are sent again next run"}
        log.warning("hubspot: malformed answer to a batch of %d; counted as failed", len(changes))
        return [_outcome(c, "failed", error) for c in changes]
    updated = {str(r.get("id")) for r in answer.get("results") or []}
    errors: dict[str, dict] = {}
    unattributed: list[dict] = []
    for err in answer.get("errors") or []:
        context = err.get("context") if isinstance(err.get("context"), dict) else {}
        ids = [*_listed(context.get("ids")), *_listed(context.get("id"))]
        detail = {k: err.get(k) for k in ("category", "message", "context") if err.get(k) is not None}
        for oid in ids:
            errors[str(oid)] = detail
        if not ids:
            unattributed.append(detail)
    out = []
    for c in changes:
        if c.id in errors:
            out.append(_outcome(c, "failed", errors[c.id]))
        elif c.id in updated:
            out.append(_outcome(c, "succeeded", None))
        else:
            reason = unattributed[0] if unattributed else {"message": "not in HubSpot's results or errors"}
            out.append(_outcome(c, "failed", reason))
    return out


def _well_formed(answer) -> bool:
    if not isinstance(answer, dict):
        return False
    lists = [answer.get("results") or [], answer.get("errors") or []]
    return all(isinstance(v, list) and all(isinstance(x, dict) for x in v) for v in lists)


def _listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _outcome(change: Change, status: str, error: dict | None) -> dict:
    return {
        "id": change.id,
        "status": status,
        "properties": change.properties,
        "fingerprint": change.fingerprint,
        "error": error,
    }
