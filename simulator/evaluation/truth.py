"""What the planted ground truth says: renewals and their outcomes, stages, retention.

Reads ``<world>/ground_truth/`` (``simulator.world.truth`` writes it). The truth holds the
future too (time travel reveals it): callers pick the dates they need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path


def load_truth(world: Path) -> dict:
    """The planted accounts (with renewals and ARR changes) and stage timeline of ``world``."""
    gt = Path(world) / "ground_truth"

    def lines(name: str) -> list[dict]:
        return [json.loads(line) for line in (gt / name).read_text().splitlines() if line.strip()]

    return {"accounts": lines("accounts.jsonl"), "timeline": lines("stage_timeline.jsonl")}


@dataclass(frozen=True)
class TruthRenewal:
    """One planted contract end and its outcome."""

    company_id: str
    account_id: str
    contract_end: date
    outcome: str  # renewed | expanded | contracted | churned
    # The latent churn probability {"90": p, "60": p, "30": p} days before the end, when the
    # world plants one (the oracle); None otherwise.
    churn_probability: dict | None = None

    @property
    def churned(self) -> bool:
        return self.outcome == "churned"

    def oracle(self, lead: int) -> float | None:
        p = (self.churn_probability or {}).get(str(lead))
        return float(p) if p is not None else None


def renewals(truth: dict) -> list[TruthRenewal]:
    """Every planted renewal of every account, in account and date order."""
    return [
        TruthRenewal(
            company_id=a["hubspot_company_id"],
            account_id=a["account_id"],
            contract_end=date.fromisoformat(r["contract_end"]),
            outcome=r["outcome"],
            churn_probability=r.get("churn_probability"),
        )
        for a in truth["accounts"]
        for r in a["renewals"]
    ]


def arr_at(account: dict, day: date) -> float:
    """The account's planted ARR on ``day`` (its last change on or before it)."""
    arr = 0.0
    for change in sorted(account["arr_changes"], key=lambda c: c["date"]):
        if date.fromisoformat(change["date"]) <= day:
            arr = change["arr"]
    return arr


def window_start(month: date, window_months: int = 12) -> date:
    """The first of the month ``window_months`` before ``month`` (a first of the month)."""
    months = month.year * 12 + month.month - 1 - window_months
    return date(months // 12, months % 12 + 1, 1)


def retention(accounts: list[dict], month: date, window_months: int = 12) -> dict:
    """Planted GRR and NRR for the window ending at ``month``: the accounts with ARR at its
    start, their ARR on both firsts of the month (as ``fct_revenue_retention`` reads it)."""
    start = window_start(month, window_months)
    base = churn = contraction = expansion = 0.0
    for account in accounts:
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
    return {
        "grr": round(min(1.0, (base - churn - contraction) / base), 4) if base else None,
        "nrr": round((base - churn - contraction + expansion) / base, 4) if base else None,
    }


def stages_on(truth: dict, day: date) -> dict[str, str]:
    """``{account_id: planted primary stage}`` of the accounts live on ``day``."""
    return {
        row["account_id"]: row["primary_stage"]
        for row in truth["timeline"]
        if date.fromisoformat(row["from"]) <= day < date.fromisoformat(row["to"])
    }
