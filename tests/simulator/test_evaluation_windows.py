"""Point-in-time selection: each renewal is scored from the right as-of's snapshot only."""

from __future__ import annotations

from datetime import date, timedelta

from simulator.evaluation import windows
from simulator.evaluation.truth import TruthRenewal

A0 = date(2026, 1, 1)
AS_OFS = [A0 + timedelta(days=30 * i) for i in range(7)]


def renewal(company: str, end: date, outcome: str = "renewed") -> TruthRenewal:
    return TruthRenewal(company_id=company, account_id="acc-" + company, contract_end=end, outcome=outcome)


def row(company: str, end: date, risk: int, as_of: date) -> dict:
    return {"company_id": company, "contract_end_date": end.isoformat(), "risk_score": risk, "as_of": as_of}


def test_window_bounds_are_open_below_closed_above():
    assert windows.in_window(A0, A0 + timedelta(days=105), 90)
    assert not windows.in_window(A0, A0 + timedelta(days=75), 90)
    assert windows.in_window(A0, A0 + timedelta(days=75), 60)
    assert not windows.in_window(A0, A0 + timedelta(days=106), 90)


def test_with_thirty_day_steps_every_end_falls_in_exactly_one_window():
    for offset in range(76, 286):
        end = A0 + timedelta(days=offset)
        assert sum(windows.in_window(a, end, 90) for a in AS_OFS) == 1, offset


def test_closer_as_of_dates_pick_the_one_nearest_the_nominal_lead():
    as_ofs = [A0, A0 + timedelta(days=10)]
    end = A0 + timedelta(days=98)  # 98 and 88 days ahead: both in (75, 105]
    assert windows.scoring_as_of(end, as_ofs, 90) == as_ofs[1]


def test_select_reads_the_scoring_as_of_never_a_later_snapshot():
    end = A0 + timedelta(days=120)  # lead 90 from A0 + 30 (90 days ahead)
    scoring = AS_OFS[1]
    snapshots = {a: [row("c1", end, 10 * i, a)] for i, a in enumerate(AS_OFS)}
    [s] = windows.select([renewal("c1", end, "churned")], snapshots, 90)
    assert s.as_of == scoring
    assert s.row["as_of"] == scoring and s.risk == 0.1
    [s60] = windows.select([renewal("c1", end, "churned")], snapshots, 60)
    assert s60.as_of == AS_OFS[2] and s60.risk == 0.2


def test_select_matches_within_three_days_and_counts_misses():
    end = A0 + timedelta(days=90)
    snapshots = {A0: [row("c1", end + timedelta(days=1), 40, A0), row("c2", end + timedelta(days=5), 40, A0)]}
    got = {s.renewal.company_id: s for s in windows.select([renewal("c1", end), renewal("c2", end)], snapshots, 90)}
    assert got["c1"].risk == 0.4
    assert got["c2"].row is None and got["c2"].risk is None  # too far from the planted end: a miss


def test_select_ignores_renewals_outside_every_window():
    snapshots = {A0: [row("c1", A0 + timedelta(days=300), 40, A0)]}
    assert windows.select([renewal("c1", A0 + timedelta(days=300))], snapshots, 90) == []
