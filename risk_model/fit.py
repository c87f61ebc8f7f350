"""Fit one renewal-risk model version on the labelled past renewals and store it.

L2-regularised logistic regression (scikit-learn) on standardised features, missing values
filled with the training mean; the strength is chosen by cross-validated log loss with folds
grouped by account (one account's renewals never sit on both sides), and the same folds give
the out-of-sample AUC and Brier score stored with the version.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date

import psycopg

from risk_model import store
from risk_model.features import FEATURES, FEATURES_RELATION
from risk_model.settings import FitSettings

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


class NotEnoughLabels(RuntimeError):
    """Too few labelled renewals: the rule points stay in use."""


@dataclass
class TrainingSet:
    rows: list[dict]

    @property
    def renewals(self) -> int:
        return len({r["contract_term_id"] for r in self.rows})

    @property
    def churned(self) -> int:
        return len({r["contract_term_id"] for r in self.rows if r["is_churned"]})


def read_training_set(conn: psycopg.Connection) -> TrainingSet:
    cols = ", ".join(("contract_term_id", "company_id", "contract_end_date", "is_churned", *FEATURES))
    cur = conn.execute(f"select {cols} from {FEATURES_RELATION} where is_training order by risk_point_id")
    names = [c.name for c in cur.description]
    return TrainingSet([dict(zip(names, r, strict=True)) for r in cur.fetchall()])


def _matrix(rows: list[dict]):
    import numpy as np

    return np.array([[math.nan if r[f] is None else float(r[f]) for f in FEATURES] for r in rows], dtype=float)


def fit(training: TrainingSet, cfg: FitSettings) -> tuple[dict, list[dict]]:
    """The version's fields and coefficients (raises NotEnoughLabels)."""
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if training.renewals < cfg.min_renewals or training.churned < cfg.min_churned:
        raise NotEnoughLabels(
            f"{training.renewals} labelled renewals ({training.churned} churned); "
            f"the fit needs {cfg.min_renewals} ({cfg.min_churned} churned)"
        )
    x = _matrix(training.rows)
    y = np.array([bool(r["is_churned"]) for r in training.rows], dtype=int)
    groups = np.array([r["company_id"] for r in training.rows])
    folds = list(GroupKFold(n_splits=min(cfg.folds, len(set(groups)))).split(x, y, groups))

    def model(c: float):
        # keep_empty_features: a feature with no value at all is filled (0), not dropped, so
        # the coefficients line up with FEATURES.
        return make_pipeline(
            SimpleImputer(strategy="mean", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=c, max_iter=2000),
        )

    def out_of_fold(c: float):
        pred = np.zeros(len(y))
        for train, test in folds:
            if len(set(y[train])) < 2:
                pred[test] = y[train].mean()
                continue
            pred[test] = model(c).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        return pred

    losses = {c: log_loss(y, np.clip(out_of_fold(c), 1e-6, 1 - 1e-6)) for c in C_GRID}
    best_c = min(losses, key=losses.get)
    oof = out_of_fold(best_c)
    final = model(best_c).fit(x, y)
    imputer, scaler, logit = final.steps[0][1], final.steps[1][1], final.steps[2][1]
    scales = [s if s > 0 else 1.0 for s in scaler.scale_]
    coefficients = [
        {
            "feature": f,
            "fill_value": float(imputer.statistics_[i]),
            "center": float(scaler.mean_[i]),
            "scale": float(scales[i]),
            "coefficient": float(logit.coef_[0][i]),
        }
        for i, f in enumerate(FEATURES)
    ]
    ends = [r["contract_end_date"] for r in training.rows]
    base = float(y.mean())
    version = {
        "training_start_date": min(ends),
        "training_end_date": max(ends),
        "labelled_renewals": training.renewals,
        "labelled_churned": training.churned,
        "training_rows": len(y),
        "regularization_c": best_c,
        "intercept": float(logit.intercept_[0]),
        "cv_auc": float(roc_auc_score(y, oof)),
        "cv_brier": float(brier_score_loss(y, oof)),
        "base_rate_brier": float(brier_score_loss(y, np.full(len(y), base))),
        "detail": {"log_loss_by_c": {str(c): round(v, 5) for c, v in losses.items()}, "churn_rate": base},
    }
    return version, coefficients


def version_id(as_of: date, version: dict, coefficients: list[dict]) -> str:
    digest = hashlib.sha1(repr((version["intercept"], [c["coefficient"] for c in coefficients])).encode())
    return f"risk-{as_of:%Y%m%d}-{digest.hexdigest()[:8]}"


def fit_renewal_risk(url: str, as_of: date, cfg: FitSettings | None = None, force: bool = False) -> dict:
    """Fit and store a version for ``as_of`` when one is due; a summary either way.

    Due when no version applies to ``as_of`` or the applying one was fitted at least
    ``refit_days`` as-of days earlier. Too few labels is not an error: the summary says so and
    the rule points stay in use.
    """
    cfg = cfg or FitSettings.from_env()
    with psycopg.connect(url) as conn:
        store.ensure_tables(conn)
        conn.commit()
        current = store.latest_version_as_of(conn, as_of)
        if current and not force and (as_of - current[1]).days < cfg.refit_days:
            return {"status": "kept", "version_id": current[0], "fitted_for": current[1].isoformat()}
        training = read_training_set(conn)
        try:
            version, coefficients = fit(training, cfg)
        except NotEnoughLabels as exc:
            return {"status": "skipped", "reason": str(exc), "version_id": current[0] if current else None}
        version["as_of_date"] = as_of
        version["version_id"] = version_id(as_of, version, coefficients)
        store.write_version(conn, version, coefficients)
        conn.commit()
    return {
        "status": "fitted",
        "version_id": version["version_id"],
        "labelled_renewals": version["labelled_renewals"],
        "labelled_churned": version["labelled_churned"],
        "cv_auc": round(version["cv_auc"], 3),
        "cv_brier": round(version["cv_brier"], 4),
        "base_rate_brier": round(version["base_rate_brier"], 4),
        "regularization_c": version["regularization_c"],
    }
