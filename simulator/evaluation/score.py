"""Per-seed metrics from the point-in-time snapshots, their across-seed means and intervals.

Each metric is a statistic over units of one seed (renewals, account-days, accounts, months),
so ``metrics.bootstrap`` can resample the units within each seed. Which units:

- renewal risk: planted renewals scored at lead 90 (risk_score / 100 as the probability);
  renewals the warehouse had no row for are left out of AUC and Brier and counted in coverage;
- health and forecast at lead 60: churners over *all* planted churners in the window (an
  account the warehouse lost was not flagged), renewers and ``commit`` calls over scored rows;
- band shares over the account-days of the as-of dates; stage agreement over accounts (their
  as-of dates together); retention errors over the distinct as-of months.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from simulator.evaluation import metrics, truth, windows
from simulator.evaluation.windows import Scoring

NON_GREEN = ("yellow", "red")
BANDS = ("green", "yellow", "red", "unknown")
ABSENT = "(absent)"


def _scored(selection: list[Scoring]) -> list[Scoring]:
    return [s for s in selection if s.risk is not None]


def _items(selection: Sequence[Scoring]) -> list[metrics.Scored]:
    return [(s.risk, s.renewal.churned) for s in selection]  # type: ignore[misc]


def _rules_items(selection: Sequence[Scoring]) -> list[metrics.Scored]:
    """The same renewals scored by the rule points (``risk_score_rules``; older runs lack it)."""
    rows = [s.row.get("risk_score_rules") if s.row else None for s in selection]
    return [(r / 100.0, s.renewal.churned) for r, s in zip(rows, selection, strict=True) if r is not None]


def _oracle_items(selection: Sequence[Scoring], lead: int) -> list[metrics.Scored] | None:
    """The planted churn probabilities of the same renewals, or None when the world plants none."""
    probs = [s.renewal.oracle(lead) for s in selection]
    if not probs or any(p is None for p in probs):
        return None
    return [(p, s.renewal.churned) for p, s in zip(probs, selection, strict=True)]  # type: ignore[misc]


def _auc(units: Sequence[Scoring]) -> float | None:
    return metrics.auc(_items(units))


def _oracle_auc(units: Sequence[Scoring]) -> float | None:
    items = _oracle_items(units, 90)
    return metrics.auc(items) if items is not None else None


def _rules_auc(units: Sequence[Scoring]) -> float | None:
    return metrics.auc(_rules_items(units))


def _fitted_share(units: Sequence[Scoring]) -> float | None:
    return metrics.share([s.row is not None and s.row.get("risk_method") == "fitted" for s in units])


def _oracle_brier(units: Sequence[Scoring]) -> float | None:
    items = _oracle_items(units, 90)
    return metrics.brier(items) if items is not None else None


def _brier(units: Sequence[Scoring]) -> float | None:
    return metrics.brier(_items(units))


def _base_brier(units: Sequence[Scoring]) -> float | None:
    return metrics.base_rate_brier(_items(units))


def _non_green(units: Sequence[Scoring]) -> float | None:
    return metrics.share([s.row is not None and s.row.get("health_band") in NON_GREEN for s in units])


def _not_churned(units: Sequence[Scoring]) -> float | None:
    return metrics.share([not s.renewal.churned for s in units])


def _called_at_risk(units: Sequence[Scoring]) -> float | None:
    return metrics.share([s.row is not None and s.row.get("forecast_category") == "at_risk" for s in units])


def _band_shares(units: Sequence[str]) -> dict[str, float] | None:
    if not units:
        return None
    counts = Counter(units)
    return {band: counts[band] / len(units) for band in BANDS}


def _agreement(units: Sequence[list[tuple[str, str]]]) -> float | None:
    pairs = [p for account in units for p in account]
    return metrics.share([t == w for t, w in pairs])


def _mean(units: Sequence[float]) -> float | None:
    return sum(units) / len(units) if units else None


def seed_units(record: dict, truth_data: dict) -> dict:
    """One seed's units for every metric, plus its counts and chart points."""
    snaps = {date.fromisoformat(a): s for a, s in record["snapshots"].items()}
    renewal_rows = {a: s["renewals"] for a, s in snaps.items()}
    planted = truth.renewals(truth_data)
    leads = {lead: windows.select(planted, renewal_rows, lead) for lead in windows.LEADS}
    lead60 = leads[60]

    account_of = {a["hubspot_company_id"]: a["account_id"] for a in truth_data["accounts"]}
    stage_pairs: dict[str, list[tuple[str, str]]] = {}
    confusion: dict[str, dict[str, int]] = {}
    band_days: list[str] = []
    retention_errors: dict[str, list[float]] = {"grr": [], "nrr": []}
    months_seen: set[str] = set()
    retention_rows = []
    for a, snap in sorted(snaps.items()):
        band_days.extend(snap["health"].values())
        planted_stages = truth.stages_on(truth_data, a)
        mine = {account_of[c]: stage for c, stage in snap["stages"].items() if c in account_of}
        for acc in set(planted_stages) | set(mine):
            t, w = planted_stages.get(acc, ABSENT), mine.get(acc, ABSENT)
            stage_pairs.setdefault(acc, []).append((t, w))
            confusion.setdefault(t, {}).setdefault(w, 0)
            confusion[t][w] += 1
        month = a.replace(day=1)
        if month.isoformat() in months_seen:
            continue  # as-of dates in the same month read the same retention row
        months_seen.add(month.isoformat())
        planted_ret = truth.retention(truth_data["accounts"], month)
        row = snap["retention"]
        retention_rows.append({"month": month.isoformat(), "warehouse": row, "truth": planted_ret})
        if row is not None and row.get("grr") is not None and planted_ret["grr"] is not None:
            retention_errors["grr"].append(abs(row["grr"] - planted_ret["grr"]) * 100)
            retention_errors["nrr"].append(abs(row["nrr"] - planted_ret["nrr"]) * 100)

    coverage = {
        str(lead): {
            "planted": len(sel),
            "scored": len(_scored(sel)),
            "unscored": len(sel) - len(_scored(sel)),
            "churners": sum(s.renewal.churned for s in sel),
        }
        for lead, sel in leads.items()
    }
    return {
        "units": {
            "renewal_risk.auc_90d": _scored(leads[90]),
            "renewal_risk.auc_60d": _scored(leads[60]),
            "renewal_risk.auc_30d": _scored(leads[30]),
            "renewal_risk.oracle_auc_90d": _scored(leads[90]),
            "renewal_risk.rules_auc_90d": _scored(leads[90]),
            "renewal_risk.fitted_share_90d": _scored(leads[90]),
            "renewal_risk.brier_90d": _scored(leads[90]),
            "renewal_risk.brier_base_rate": _scored(leads[90]),
            "renewal_risk.oracle_brier_90d": _scored(leads[90]),
            "health.churner_non_green_60d": [s for s in lead60 if s.renewal.churned],
            "health.renewer_non_green_60d": [s for s in _scored(lead60) if not s.renewal.churned],
            "health.band_shares": band_days,
            "forecast.commit_precision": [s for s in _scored(lead60) if s.row.get("forecast_category") == "commit"],  # type: ignore[union-attr]
            "forecast.at_risk_recall": [s for s in lead60 if s.renewal.churned],
            "primary_stage.agreement": list(stage_pairs.values()),
            "retention.grr_abs_error_points": retention_errors["grr"],
            "retention.nrr_abs_error_points": retention_errors["nrr"],
        },
        "coverage": coverage,
        "confusion": confusion,
        "retention_rows": retention_rows,
        "chart": {
            "model": _items(_scored(leads[90])),
            "oracle": _oracle_items(_scored(leads[90]), 90),
        },
    }


STATISTICS = {
    "renewal_risk.auc_90d": _auc,
    "renewal_risk.auc_60d": _auc,
    "renewal_risk.auc_30d": _auc,
    "renewal_risk.oracle_auc_90d": _oracle_auc,
    "renewal_risk.rules_auc_90d": _rules_auc,
    "renewal_risk.fitted_share_90d": _fitted_share,
    "renewal_risk.brier_90d": _brier,
    "renewal_risk.brier_base_rate": _base_brier,
    "renewal_risk.oracle_brier_90d": _oracle_brier,
    "health.churner_non_green_60d": _non_green,
    "health.renewer_non_green_60d": _non_green,
    "health.band_shares": _band_shares,
    "forecast.commit_precision": _not_churned,
    "forecast.at_risk_recall": _called_at_risk,
    "primary_stage.agreement": _agreement,
    "retention.grr_abs_error_points": _mean,
    "retention.nrr_abs_error_points": _mean,
}


def score(records: dict[str, dict], truths: dict[str, dict], resamples: int = 1000) -> dict:
    """Every metric ``{"mean", "ci95", "per_seed", "per_seed_ci95"}`` over the seeds' records
    (``pipeline.SeedRun`` output), keyed by seed as a string, plus counts and chart data."""
    per_seed = {seed: seed_units(records[seed], truths[seed]) for seed in records}
    out: dict = {}
    for name, statistic in STATISTICS.items():
        units = {seed: per_seed[seed]["units"][name] for seed in per_seed}
        out[name] = metrics.bootstrap(units, statistic, resamples, rng_seed=f"postsale-accuracy:{name}")
    auc90 = out["renewal_risk.auc_90d"]
    out["renewal_risk.auc_90d_ci95"] = {"mean": auc90["ci95"], "per_seed": auc90["per_seed_ci95"]}
    confusions = {seed: per_seed[seed]["confusion"] for seed in per_seed}
    out["primary_stage.confusion"] = {"mean": _mean_confusion(list(confusions.values())), "per_seed": confusions}
    pooled_model = [it for seed in per_seed for it in per_seed[seed]["chart"]["model"]]
    oracles = [per_seed[seed]["chart"]["oracle"] for seed in per_seed]
    pooled_oracle = None if any(o is None for o in oracles) else [it for o in oracles for it in o]  # type: ignore[union-attr]
    return {
        "metrics": out,
        "coverage": {seed: per_seed[seed]["coverage"] for seed in per_seed},
        "retention_rows": {seed: per_seed[seed]["retention_rows"] for seed in per_seed},
        "charts": {
            "roc_model_90d": metrics.roc_points(pooled_model),
            "roc_oracle_90d": metrics.roc_points(pooled_oracle) if pooled_oracle else None,
            "calibration_90d": metrics.calibration_bins(pooled_model),
            "pooled_auc_90d": metrics.auc(pooled_model),
            "pooled_oracle_auc_90d": metrics.auc(pooled_oracle) if pooled_oracle else None,
        },
    }


def _mean_confusion(confusions: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, float]]:
    """Mean count per seed of every (planted, warehouse) stage pair."""
    out: dict[str, dict[str, float]] = {}
    for c in confusions:
        for t, row in c.items():
            for w, n in row.items():
                out.setdefault(t, {}).setdefault(w, 0.0)
                out[t][w] += n / len(confusions)
    return out
