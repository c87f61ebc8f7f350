"""How close the warehouse's marts are to the simulated world's ground truth.

The simulator plants every account's stage timeline, renewal outcomes and ARR changes
(``<world>/ground_truth/``); the pipeline only ever sees the API responses. This module puts
the two side by side for one as-of date:

- primary stage: the share of accounts whose ``fct_journey_stage_daily.primary_stage`` equals
  the planted stage (an account present on one side only counts as a disagreement);
- renewal risk: ROC AUC of ``fct_renewals.risk_score`` between renewals that really churned
  and those that renewed (ties count half);
- revenue retention: ``fct_revenue_retention_by_month`` GRR and NRR (all customers) next
  to the values the planted ARR changes give over the same window.

``python -m simulator accuracy --world DIR --warehouse URL [--as-of DATE] [--json FILE]`` prints the
figures (``figures``: metric, value, target, met) as a table, and writes them with the whole
comparison to FILE, which ``postsale load-accuracy`` loads into ``audit.score_accuracy``.
The exam over many worlds and as-of dates is ``simulator.evaluation`` (``python -m simulator
evaluate``); this check shares its ground-truth readers and arithmetic.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg

from simulator.evaluation import metrics
from simulator.evaluation.truth import arr_at, load_truth, stages_on, window_start
from simulator.evaluation.truth import retention as planted_retention

__all__ = ["arr_at", "load_truth", "measure", "renewal_auc", "retention", "stage_agreement"]


def stage_agreement(conn: psycopg.Connection, truth: dict, as_of: date) -> dict:
    planted = stages_on(truth, as_of)
    by_company = {a["hubspot_company_id"]: a["account_id"] for a in truth["accounts"]}
    mine = {
        by_company[cid]: stage
        for cid, stage in conn.execute(
            "select company_id, primary_stage from marts.fct_journey_stage_daily where calendar_date = %s", (as_of,)
        )
        if cid in by_company
    }
    accounts = set(planted) | set(mine)
    agree = sum(planted.get(a) == mine.get(a) for a in accounts)
    misses: dict[str, int] = {}
    for a in accounts:
        if planted.get(a) != mine.get(a):
            key = f"{planted.get(a)} -> {mine.get(a)}"
            misses[key] = misses.get(key, 0) + 1
    return {
        "agreement": round(agree / len(accounts), 3) if accounts else None,
        "accounts": len(accounts),
        "disagreements": dict(sorted(misses.items(), key=lambda kv: -kv[1])),
    }


def renewal_auc(conn: psycopg.Connection, truth: dict) -> dict:
    by_company = {a["hubspot_company_id"]: a for a in truth["accounts"]}
    items: list[metrics.Scored] = []
    for cid, risk, end in conn.execute("select company_id, risk_score, contract_end_date from marts.fct_renewals"):
        account = by_company.get(cid)
        if account is None or risk is None:
            continue
        outcome = next(
            (r["outcome"] for r in account["renewals"] if date.fromisoformat(r["contract_end"]) == end), None
        )
        if outcome is not None:
            items.append((float(risk), outcome == "churned"))
    auc = metrics.auc(items)
    churned = sum(1 for _, y in items if y)
    return {
        "auc": round(auc, 3) if auc is not None else None,
        "churned": churned,
        "renewed": len(items) - churned,
    }


def retention(conn: psycopg.Connection, truth: dict, as_of: date, window_months: int = 12) -> dict:
    month = as_of.replace(day=1)
    start = window_start(month, window_months)
    row = conn.execute(
        "select gross_revenue_retention, net_revenue_retention from marts.fct_revenue_retention_by_month "
        "where calendar_month = %s",
        (month,),
    ).fetchone()
    warehouse = {"grr": float(row[0]), "nrr": float(row[1])} if row and row[0] is not None else None
    return {
        "month": month.isoformat(),
        "window_start": start.isoformat(),
        "warehouse": warehouse,
        "truth": planted_retention(truth["accounts"], month, window_months),
    }


def measure(warehouse_url: str, world: Path, as_of: date) -> dict:
    truth = load_truth(world)
    with psycopg.connect(warehouse_url) as conn:
        return {
            "as_of": as_of.isoformat(),
            "primary_stage": stage_agreement(conn, truth, as_of),
            "renewal_risk": renewal_auc(conn, truth),
            "revenue_retention": retention(conn, truth, as_of),
        }


# The one-day figures with the exam's targets (``simulator.evaluation.report.TARGETS``) where a
# figure has one. One world and one day give no interval: a smoke check, not the measured
# quality (``docs/ACCURACY.md``). The renewal AUC here is over every renewal the marts hold, not
# the exam's 90-day lead, so its target is the exam's AUC floor only.
ONE_DAY_TARGETS = {
    "primary_stage.agreement": ("≥ 90%", lambda v: v >= 0.90),
    "renewal_risk.auc": ("≥ 0.80", lambda v: v >= 0.80),
    "retention.grr_abs_error_points": ("≤ 1 point", lambda v: v <= 1.0),
    "retention.nrr_abs_error_points": ("≤ 1 point", lambda v: v <= 1.0),
}
NOTE = "one world, one day, no interval: a smoke check; the measured quality is docs/ACCURACY.md (make accuracy)"


def figures(result: dict, world_seed: int | None) -> dict:
    """``measure``'s result as flat figures ``{metric, value, target, is_met}``: what the demo
    prints as a table and ``postsale load-accuracy`` stores (``audit.score_accuracy``)."""
    ret = result["revenue_retention"]
    wh, truth = ret.get("warehouse"), ret.get("truth") or {}

    def error_points(key: str) -> float | None:
        if not wh or wh.get(key) is None or truth.get(key) is None:
            return None
        return round(abs(wh[key] - truth[key]) * 100, 3)

    values = {
        "primary_stage.agreement": result["primary_stage"]["agreement"],
        "renewal_risk.auc": result["renewal_risk"]["auc"],
        "retention.grr_abs_error_points": error_points("grr"),
        "retention.nrr_abs_error_points": error_points("nrr"),
    }
    rows = []
    for metric, value in values.items():
        target, check = ONE_DAY_TARGETS[metric]
        is_met = None if value is None else check(value)
        rows.append({"metric": metric, "value": value, "target": target, "is_met": is_met})
    return {"world_seed": world_seed, "as_of_date": result["as_of"], "figures": rows, "note": NOTE, "measure": result}


def world_seed(world: Path) -> int | None:
    """The seed the world was generated with (its ``meta`` table), or None."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{Path(world) / 'world.db'}?mode=ro", uri=True)
        try:
            row = conn.execute("select value from meta where key = 'seed'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return int(row[0]) if row else None


def render_table(doc: dict) -> str:
    """The figures as a short table (metric, value, target, met)."""
    met = {True: "yes", False: "no", None: "n/a"}
    width = max(len(f["metric"]) for f in doc["figures"])
    lines = [f"{'metric':<{width}}  {'value':>8}  {'target':<10}  met"]
    for f in doc["figures"]:
        value = "n/a" if f["value"] is None else f"{f['value']:.3f}"
        lines.append(f"{f['metric']:<{width}}  {value:>8}  {f['target']:<10}  {met[f['is_met']]}")
    return "\n".join([*lines, doc["note"]])
