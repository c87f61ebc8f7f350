"""How close the warehouse's marts are to the simulated world's ground truth.

The simulator plants every account's stage timeline, renewal outcomes and ARR changes
(``<world>/ground_truth/``); the pipeline only ever sees the API responses. This module puts
the two side by side for one as-of date:

- primary stage: the share of accounts whose ``fct_journey_stage_daily.primary_stage`` equals
  the planted stage (an account present on one side only counts as a disagreement);
- renewal risk: ROC AUC of ``fct_renewals.risk_score`` between renewals that really churned
  and those that renewed (ties count half);
- revenue retention: ``fct_revenue_retention`` GRR and NRR (segment and cohort ``all``) next
  to the values the planted ARR changes give over the same window.

``python -m simulator accuracy --world DIR --warehouse URL [--as-of DATE]`` prints it as JSON.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import psycopg


def load_truth(world: Path) -> dict:
    """The planted accounts (with renewals and ARR changes) and stage timeline of ``world``."""
    gt = Path(world) / "ground_truth"

    def lines(name: str) -> list[dict]:
        return [json.loads(line) for line in (gt / name).read_text().splitlines() if line.strip()]

    return {"accounts": lines("accounts.jsonl"), "timeline": lines("stage_timeline.jsonl")}


def arr_at(account: dict, day: date) -> float:
    """The account's planted ARR on ``day`` (its last change on or before it)."""
    arr = 0.0
    for change in sorted(account["arr_changes"], key=lambda c: c["date"]):
        if date.fromisoformat(change["date"]) <= day:
            arr = change["arr"]
    return arr


def stage_agreement(conn: psycopg.Connection, truth: dict, as_of: date) -> dict:
    planted = {
        row["account_id"]: row["primary_stage"]
        for row in truth["timeline"]
        if date.fromisoformat(row["from"]) <= as_of < date.fromisoformat(row["to"])
    }
    by_company = {a["hubspot_company_id"]: a["account_id"] for a in truth["accounts"]}
    mine = {
        by_company[cid]: stage
        for cid, stage in conn.execute(
            "select company_id, primary_stage from marts.fct_journey_stage_daily where date_day = %s", (as_of,)
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
    churned, renewed = [], []
    for cid, risk, end in conn.execute("select company_id, risk_score, contract_end_date from marts.fct_renewals"):
        account = by_company.get(cid)
        if account is None or risk is None:
            continue
        outcome = next(
            (r["outcome"] for r in account["renewals"] if date.fromisoformat(r["contract_end"]) == end), None
        )
        if outcome is not None:
            (churned if outcome == "churned" else renewed).append(float(risk))
    pairs = len(churned) * len(renewed)
    auc = sum((c > r) + 0.5 * (c == r) for c in churned for r in renewed) / pairs if pairs else None
    return {"auc": round(auc, 3) if auc is not None else None, "churned": len(churned), "renewed": len(renewed)}


def retention(conn: psycopg.Connection, truth: dict, as_of: date, window_months: int = 12) -> dict:
    month = as_of.replace(day=1)
    months = month.year * 12 + month.month - 1 - window_months
    start = date(months // 12, months % 12 + 1, 1)
    row = conn.execute(
        "select gross_revenue_retention, net_revenue_retention from marts.fct_revenue_retention "
        "where month_start = %s and segment = 'all' and cohort_year = 'all'",
        (month,),
    ).fetchone()
    base = churn = contraction = expansion = 0.0
    for account in truth["accounts"]:
        before, after = arr_at(account, start), arr_at(account, month)
        if before <= 0:
            continue
        base += before
        if after == 0:
            churn += before
        elif after < before:
            contraction += before - after
        else:
            expansion += after - before
    planted = {
        "grr": round(min(1.0, (base - churn - contraction) / base), 4) if base else None,
        "nrr": round((base - churn - contraction + expansion) / base, 4) if base else None,
    }
    warehouse = {"grr": float(row[0]), "nrr": float(row[1])} if row and row[0] is not None else None
    return {"month": month.isoformat(), "window_start": start.isoformat(), "warehouse": warehouse, "truth": planted}


def measure(warehouse_url: str, world: Path, as_of: date) -> dict:
    truth = load_truth(world)
    with psycopg.connect(warehouse_url) as conn:
        return {
            "as_of": as_of.isoformat(),
            "primary_stage": stage_agreement(conn, truth, as_of),
            "renewal_risk": renewal_auc(conn, truth),
            "revenue_retention": retention(conn, truth, as_of),
        }
