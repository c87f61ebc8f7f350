"""Point-in-time selection: which as-of's snapshot scores which planted renewal.

A renewal ending on E is scored at lead L from the as-of A whose ``E − A`` falls in L's
window (``LEADS``), using only what the warehouse said on A: the snapshot taken right after
A's pipeline run, never a later one. With as-of dates 30 days apart each renewal falls in
exactly one window per lead; with closer dates the as-of nearest the nominal lead wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from simulator.evaluation.truth import TruthRenewal

# Lead (days before the contract end) -> days-to-end window (lo, hi]: lo < E − A <= hi.
LEADS: dict[int, tuple[int, int]] = {90: (75, 105), 60: (45, 75), 30: (15, 45)}
# Billing may put a contract end a day or two from the planted one (time zones, month ends).
MATCH_DAYS = 3


@dataclass(frozen=True)
class Scoring:
    """A planted renewal at one lead: the as-of that scores it and the warehouse's row then
    (None when the warehouse had no row for it: a miss, counted in coverage)."""

    renewal: TruthRenewal
    lead: int
    as_of: date
    row: dict | None

    @property
    def risk(self) -> float | None:
        """The row's risk score as a probability (risk_score / 100)."""
        if self.row is None or self.row.get("risk_score") is None:
            return None
        return float(self.row["risk_score"]) / 100.0


def in_window(as_of: date, contract_end: date, lead: int) -> bool:
    lo, hi = LEADS[lead]
    return lo < (contract_end - as_of).days <= hi


def scoring_as_of(contract_end: date, as_ofs: list[date], lead: int) -> date | None:
    """The as-of that scores a renewal ending on ``contract_end`` at ``lead`` (None: none does)."""
    inside = [a for a in sorted(as_ofs) if in_window(a, contract_end, lead)]
    if not inside:
        return None
    return min(inside, key=lambda a: abs((contract_end - a).days - lead))


def match_row(rows: list[dict], company_id: str, contract_end: date) -> dict | None:
    """The warehouse row of ``company_id`` whose contract end is nearest ``contract_end``, within
    ``MATCH_DAYS``."""
    best, best_gap = None, MATCH_DAYS + 1
    for row in rows:
        if row["company_id"] != company_id or row.get("contract_end_date") is None:
            continue
        gap = abs((date.fromisoformat(str(row["contract_end_date"])) - contract_end).days)
        if gap < best_gap:
            best, best_gap = row, gap
    return best


def select(renewals: list[TruthRenewal], snapshots: dict[date, list[dict]], lead: int) -> list[Scoring]:
    """Every planted renewal that some as-of scores at ``lead``, with that as-of's row.

    ``snapshots`` maps each as-of to the ``fct_renewals`` rows the warehouse held then."""
    as_ofs = sorted(snapshots)
    by_company: dict[date, dict[str, list[dict]]] = {}
    for a, rows in snapshots.items():
        grouped: dict[str, list[dict]] = {}
        for row in rows:
            grouped.setdefault(row["company_id"], []).append(row)
        by_company[a] = grouped
    out = []
    for rn in renewals:
        a = scoring_as_of(rn.contract_end, as_ofs, lead)
        if a is not None:
            row = match_row(by_company[a].get(rn.company_id, []), rn.company_id, rn.contract_end)
            out.append(Scoring(rn, lead, a, row))
    return out
