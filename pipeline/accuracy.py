"""Accuracy figures into the warehouse, and as a short table: the demo's one-world smoke check
(``python -m simulator accuracy --json FILE``) and the held-out evaluation (``make accuracy``'s
``.local/accuracy.json``, ``"source": "evaluation"``, each figure with ``ci_low``/``ci_high``).

The file is the interface: the simulator imports no postsale package and postsale imports no
simulator, so this module reads JSON of the form::

    {"world_seed": 42, "as_of_date": "2026-12-06",
     "figures": [{"metric": "primary_stage.agreement", "value": 0.81, "target": "≥ 0.90", "is_met": false}, …]}

``load_accuracy`` appends one row per metric to ``audit.score_accuracy`` (created if missing),
all rows of a load sharing ``recorded_at``, so a BI page can chart them over time; an
evaluation replaces the one loaded before it.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

TABLE = "audit.score_accuracy"
# Where a figure comes from: the demo's one-world check, or `make accuracy` (source "evaluation").
SMOKE_CHECK = "smoke check"
EVALUATION = "evaluation"
DDL = """
create schema if not exists audit;
create table if not exists audit.score_accuracy (
    metric      text not null,
    value       double precision,
    target      text,
    is_met      boolean,
    world_seed  integer,
    as_of_date  date,
    recorded_at timestamptz not null default now(),
    source      text,
    ci_low      double precision,
    ci_high     double precision,
    seeds       text
);
-- Tables an earlier version created lack the evaluation's columns.
alter table audit.score_accuracy
    add column if not exists source text,
    add column if not exists ci_low double precision,
    add column if not exists ci_high double precision,
    add column if not exists seeds text;
comment on table audit.score_accuracy is
    'The marts against the simulated ground truth, one row per metric per load (postsale load-accuracy)'
"""


class AccuracyFileError(ValueError):
    """The figures file is not what ``simulator accuracy --json`` writes."""


def read_figures(path: Path) -> dict:
    """The figures file, checked: every figure has a metric name and a numeric (or null) value."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AccuracyFileError(f"{path}: no such file (run `python -m simulator accuracy --json {path}`)") from None
    except ValueError as exc:
        raise AccuracyFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    figures = doc.get("figures") if isinstance(doc, dict) else None
    if not isinstance(figures, list) or not figures:
        raise AccuracyFileError(f"{path}: no 'figures' list")
    for i, f in enumerate(figures):
        if not isinstance(f, dict) or not isinstance(f.get("metric"), str) or not f["metric"]:
            raise AccuracyFileError(f"{path}: figure {i} has no metric name")
        for key in ("value", "ci_low", "ci_high"):
            value = f.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise AccuracyFileError(f"{path}: figure {f['metric']} has a non-numeric {key}")
        if f.get("is_met") is not None and not isinstance(f["is_met"], bool):
            raise AccuracyFileError(f"{path}: figure {f['metric']} has a non-boolean is_met")
    seed = doc.get("world_seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise AccuracyFileError(f"{path}: world_seed is not an integer")
    as_of = doc.get("as_of_date")
    if as_of is not None:
        try:
            date.fromisoformat(as_of)
        except (TypeError, ValueError):
            raise AccuracyFileError(f"{path}: as_of_date is not YYYY-MM-DD") from None
    return doc


def _number(v) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def load_accuracy(warehouse_url: str, path: Path) -> int:
    """Append the file's figures to ``audit.score_accuracy``; return the number of rows."""
    import psycopg

    doc = read_figures(path)
    source = doc.get("source") or SMOKE_CHECK
    seeds = ",".join(str(s) for s in doc["seeds"]) if isinstance(doc.get("seeds"), list) else None
    rows = [
        (
            f["metric"],
            _number(f.get("value")),
            f.get("target"),
            f.get("is_met"),
            doc.get("world_seed"),
            doc.get("as_of_date"),
            source,
            _number(f.get("ci_low")),
            _number(f.get("ci_high")),
            seeds,
        )
        for f in doc["figures"]
    ]
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(DDL)
        with conn.cursor() as cur:
            if source == EVALUATION:
                # One held-out evaluation stands at a time (docs/ACCURACY.md keeps its history):
                # loading it again, e.g. on every `make reports`, replaces it.
                cur.execute("delete from audit.score_accuracy where source = %s", (EVALUATION,))
            # now() is the transaction's start: one recorded_at for the whole load.
            cur.executemany(
                "insert into audit.score_accuracy (metric, value, target, is_met, world_seed, as_of_date,"
                " source, ci_low, ci_high, seeds, recorded_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())",
                rows,
            )
    return len(rows)


def _value(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"


def render_accuracy(doc: dict) -> list[str]:
    """The figures as a short table: metric, value, target, met."""
    met = {True: "yes", False: "no", None: "n/a"}
    head = "accuracy against the simulated ground truth"
    context = [f"world seed {doc['world_seed']}" if doc.get("world_seed") is not None else None, doc.get("as_of_date")]
    lines = [head + (f" ({', '.join(c for c in context if c)})" if any(context) else "")]
    width = max(len("metric"), *(len(f["metric"]) for f in doc["figures"]))
    lines.append(f"  {'metric':<{width}}  {'value':>8}  {'target':<12}  met")
    for f in doc["figures"]:
        value, target = _value(f.get("value")), f.get("target") or ""
        lines.append(f"  {f['metric']:<{width}}  {value:>8}  {target:<12}  {met[f.get('is_met')]}")
    if doc.get("note"):
        lines.append(f"  {doc['note']}")
    return lines
