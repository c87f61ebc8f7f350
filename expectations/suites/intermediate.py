"""Intermediate layer: identity resolution, user activity per day, subscription MRR, lifecycles.

The rule "every row joinable to an account or reported as unmatched" is checked here, where
identities are resolved: every Stripe customer and every product account in staging is either
tied to a CRM company in ``int_accounts_resolved`` or listed in ``int_identities_unmatched``
(critical: nothing silently dropped), every customer company missing a link is listed, and the
share of unmatched customers / product accounts stays under ``unmatched_share_max``.
"""

from __future__ import annotations

from expectations.rules import BuildEnv, accepted_values, between, not_null, unique_key
from expectations.spec import Check, TableSuite, offending_rows

INT = "intermediate"
UNMATCHED = f"{INT}.int_identities_unmatched"


def _suite(env: BuildEnv, table: str, key: tuple[str, ...], checks: list[Check], cols: tuple[str, ...] = ()):
    key_checks, constraint_keys = unique_key(env, INT, table, key) if key else ([], [])
    return TableSuite(
        layer=INT,
        schema=INT,
        table=table,
        checks=key_checks + checks,
        key_columns=tuple(dict.fromkeys([*key, *cols])),
        constraint_keys=tuple(constraint_keys),
    )


def _resolved_or_reported(name: str, population: str, id_col: str, resolved_col: str, source: str, rtype: str):
    return offending_rows(
        name,
        f"select p.{id_col} as record_id from {population} as p "
        f"where p.{id_col} is not null "
        f"and not exists (select 1 from {{batch}} as r where r.{resolved_col} = p.{id_col}) "
        f"and not exists (select 1 from {UNMATCHED} as u where u.source_system = '{source}' "
        f"and u.record_type = '{rtype}' and u.record_id = p.{id_col})",
        f"Every {source} {rtype} is tied to a CRM company or listed in {UNMATCHED}.",
    )


def build(env: BuildEnv) -> list[TableSuite]:
    share = env.settings.unmatched_share_max
    return [
        _suite(
            env,
            "int_accounts_resolved",
            ("company_id",),
            [
                _resolved_or_reported(
                    "expect_customers_resolved_or_reported",
                    "staging.stg_stripe__customers",
                    "customer_id",
                    "stripe_customer_id",
                    "stripe",
                    "customer",
                ),
                _resolved_or_reported(
                    "expect_product_accounts_resolved_or_reported",
                    "(select distinct account_id from staging.stg_mixpanel__users)",
                    "account_id",
                    "product_account_id",
                    "mixpanel",
                    "account",
                ),
                offending_rows(
                    "expect_customer_companies_linked_or_reported",
                    "select r.company_id, r.stripe_customer_id, r.product_account_id from {batch} as r "
                    "inner join staging.stg_hubspot__companies as c on c.company_id = r.company_id "
                    "where c.customer_status in ('active', 'churned') "
                    "and (r.stripe_customer_id is null or r.product_account_id is null) "
                    f"and not exists (select 1 from {UNMATCHED} as u where u.source_system = 'hubspot' "
                    "and u.record_type = 'company' and u.record_id = r.company_id)",
                    "Every customer company has a Stripe customer and a product account, or is listed as unmatched.",
                ),
                offending_rows(
                    "expect_unmatched_share_below_max",
                    "select u.source_system, u.record_type, u.unmatched, t.total, "
                    "round(u.unmatched::numeric / nullif(t.total, 0), 4) as share "
                    "from (select source_system, record_type, count(distinct record_id) as unmatched "
                    f"from {UNMATCHED} where source_system in ('stripe', 'mixpanel') "
                    "group by 1, 2) as u "
                    "inner join (select 'stripe' as source_system, count(*) as total "
                    "from staging.stg_stripe__customers union all "
                    "select 'mixpanel', count(distinct account_id) from staging.stg_mixpanel__users) as t "
                    "on t.source_system = u.source_system "
                    f"cross join (select count(*) from {{batch}} as b) as resolved "
                    f"where u.unmatched::numeric / nullif(t.total, 0) > {share}",
                    f"At most {share:.0%} of Stripe customers / product accounts are unmatched "
                    "(setting unmatched_share_max).",
                ),
                offending_rows(
                    "expect_customer_claimed_once",
                    "select stripe_customer_id, count(*) as companies, array_agg(company_id) as company_ids "
                    "from {batch} as b where stripe_customer_id is not null group by 1 having count(*) > 1",
                    "A Stripe customer is tied to one CRM company.",
                    "warning",
                ),
            ],
            ("stripe_customer_id", "product_account_id"),
        ),
        _suite(env, "int_identities_unmatched", ("unmatched_id",), [], ("source_system", "record_type", "record_id")),
        _suite(
            env,
            "int_account_lifecycles_derived",
            ("company_id",),
            [
                accepted_values("int_account_lifecycles_derived", "segment", allow_null=False),
                between(["mrr_usd", "arr_usd"], 0, None, ("company_id",)),
            ],
            ("segment",),
        ),
        # 400k+ rows: key and account in one pass.
        TableSuite(
            layer=INT,
            schema=INT,
            table="int_user_days_aggregated",
            key_columns=("user_day_id", "user_id", "activity_date", "account_id"),
            checks=[
                offending_rows(
                    "expect_user_day_unique_with_account",
                    "select user_day_id, count(*) as copies, count(*) - count(account_id) as rows_without_account "
                    "from {batch} as b group by user_day_id "
                    "having count(*) > 1 or count(account_id) < count(*) or user_day_id is null",
                    "One row per user and day, each with an account.",
                ),
            ],
        ),
        _suite(
            env,
            "int_subscriptions_mrr_monthly",
            ("subscription_month_id",),
            [
                between(["mrr_usd", "seats"], 0, None, ("subscription_month_id",)),
                not_null(["customer_id", "month_start"], show=("subscription_month_id",)),
            ],
        ),
    ]
