"""The model's features: columns of ``intermediate.int_renewal_features_derived``.

The SQL model computes them point-in-time; this list says which columns the fit uses (a test
checks both agree). dbt applies whichever features a stored version names, so a version fitted
on an older list still scores.
"""

from __future__ import annotations

FEATURES: tuple[str, ...] = (
    "lead_days",
    "tenure_years",
    "is_first_term",
    "is_enterprise",
    "is_mid_market",
    "is_smb",
    "log_arr",
    "mrr_change_90d",
    "seats_change_90d",
    "usage_intensity_28d",
    "usage_trend_28d",
    "usage_intensity_91d",
    "active_user_share_91d",
    "usage_change_91d",
    "usage_vs_half_year",
    "events_per_user_day_28d",
    "features_used_28d",
    "days_since_active",
    "tickets_90d",
    "high_severity_tickets_90d",
    "payment_failures_90d",
    "key_contacts_left_180d",
    "has_nps_365d",
    "nps_latest",
    "nps_average_365d",
    "nps_change",
)

# The other columns of the features model: keys, the label and the row's role.
KEY_COLUMNS: tuple[str, ...] = (
    "risk_point_id",
    "contract_term_id",
    "company_id",
    "contract_end_date",
    "feature_date",
    "is_training",
    "is_churned",
)

FEATURES_RELATION = "intermediate.int_renewal_features_derived"
