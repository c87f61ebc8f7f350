"""Staging layer: typed, renamed source views built by dbt.

Per model: its key unique and not null (for views that only filter and rename a raw table the
raw primary key guarantees it: checked in the catalog, not scanned), column types, accepted
values of the codes the marts branch on, ranges, and references to an account: each row that
carries one either resolves within staging or is reported (warning, with the offending ids);
the account-level "resolved or listed as unmatched" rule is checked in the intermediate layer,
where identity resolution happens.

The accepted value sets are what the simulated APIs (and the real ones) send. Each set the
dbt staging models declare (an ``accepted_values`` test in their yml) is read from there
(``rules.accepted_values``); the two below are checked only here, so they are stated here.
"""

from __future__ import annotations

from expectations.rules import BuildEnv, accepted_values, between, in_set, not_null, references, unique_key
from expectations.spec import Check, TableSuite, offending_rows

# Not declared by the dbt project (no accepted_values test on these columns).
CUSTOMER_STATUSES = ["prospect", "active", "churned"]
NPS_SENTIMENTS = ["promoter", "passive", "detractor"]

TS = "timestamp with time zone"
S = "staging"


def _suite(
    env: BuildEnv,
    table: str,
    key: tuple[str, ...],
    checks: list[Check],
    types: dict[str, str] | None = None,
    raw_pk: str | None = None,
    dated_by: str | None = None,
) -> TableSuite:
    """``raw_pk``: the raw table whose ``_pk`` the key is (the view only filters and renames it).
    ``dated_by``: validate only recent rows by this column (``TableSuite.dated_by``)."""
    key_checks, constraint_keys = unique_key(
        env, S, table, key, backed_by=("raw", raw_pk, ("_pk",)) if raw_pk else None
    )
    types = types or {}
    return TableSuite(
        layer="staging",
        schema=S,
        table=table,
        checks=key_checks + checks,
        key_columns=tuple(dict.fromkeys([*key, *types])),
        column_types=types,
        constraint_keys=tuple(constraint_keys),
        dated_by=dated_by,
    )


def build(env: BuildEnv) -> list[TableSuite]:
    companies = f"{S}.stg_hubspot__companies"
    scores = ["score_technical", "score_knowledge", "score_usage", "score_value", "score_stakeholder"]
    return [
        _suite(
            env,
            "stg_hubspot__companies",
            ("company_id",),
            [
                accepted_values("stg_hubspot__companies", "crm_segment"),
                accepted_values("stg_hubspot__companies", "onboarding_status"),
                in_set("customer_status", CUSTOMER_STATUSES),
                between(scores, 0, 10, key=("company_id",), name="expect_scorecard_inputs_0_10"),
                offending_rows(
                    "expect_contract_end_after_start",
                    "select company_id, contract_start_date, contract_end_date from {batch} as b "
                    "where contract_end_date < contract_start_date",
                    "A contract ends on or after its start.",
                    "warning",
                ),
            ],
            {"company_id": "text", "contract_end_date": "date", "created_at": TS, **{s: "numeric" for s in scores}},
            raw_pk="hubspot__companies",
        ),
        _suite(
            env,
            "stg_hubspot__contacts",
            ("contact_id",),
            [
                accepted_values("stg_hubspot__contacts", "contact_role"),
                references(
                    "primary_company_id",
                    companies,
                    "company_id",
                    key=("contact_id",),
                    severity="warning",
                    name="expect_contact_company_resolves",
                ),
            ],
            {"contact_id": "text", "is_champion": "boolean", "left_company_on": "date"},
            raw_pk="hubspot__contacts",
        ),
        _suite(
            env,
            "stg_hubspot__deals",
            ("deal_id",),
            [
                accepted_values("stg_hubspot__deals", "deal_stage"),
                accepted_values("stg_hubspot__deals", "deal_kind"),
                between(["amount_usd"], 0, None, key=("deal_id",), severity="warning"),
            ],
            {"deal_id": "text", "amount_usd": "numeric", "close_at": TS, "created_at": TS},
            raw_pk="hubspot__deals",
        ),
        _suite(
            env,
            "stg_hubspot__tickets",
            ("ticket_id",),
            [
                accepted_values("stg_hubspot__tickets", "ticket_status"),
                accepted_values("stg_hubspot__tickets", "priority"),
            ],
            {"ticket_id": "text", "created_at": TS},
            raw_pk="hubspot__tickets",
        ),
        _suite(
            env,
            "stg_hubspot__feedback_submissions",
            ("feedback_submission_id",),
            [
                offending_rows(
                    "expect_nps_0_10",
                    "select feedback_submission_id, response_value from {batch} as b "
                    "where survey_type = 'nps' and (response_value < 0 or response_value > 10)",
                    "NPS answers are within 0-10.",
                ),
                in_set("sentiment", NPS_SENTIMENTS, severity="warning"),
            ],
            {"response_value": "numeric", "submitted_at": TS},
            raw_pk="hubspot__feedback_submissions",
        ),
        _suite(env, "stg_hubspot__owners", ("owner_id",), [], raw_pk="hubspot__owners"),
        _suite(
            env,
            "stg_hubspot__associations",
            ("association_id",),
            [not_null(["from_object_id", "to_object_id"], show=("association_id",))],
            raw_pk="hubspot__associations",
        ),
        _suite(
            env,
            "stg_stripe__customers",
            ("customer_id",),
            [
                not_null(["created_at"], show=("customer_id",)),
                offending_rows(
                    "expect_email_format",
                    "select customer_id, email from {batch} as b where email !~ '^[^@[:space:]]+@[^@[:space:]]+$'",
                    "Customer e-mails look like e-mails.",
                    "warning",
                ),
                # Linked to the CRM by metadata or not: unlinked customers are reported here and,
                # when no other evidence ties them to a company, in int_identities_unmatched.
                references(
                    "hubspot_company_id",
                    companies,
                    "company_id",
                    key=("customer_id",),
                    severity="warning",
                    name="expect_customer_company_resolves",
                ),
            ],
            {"customer_id": "text", "created_at": TS, "is_delinquent": "boolean"},
            raw_pk="stripe__customers",
        ),
        _suite(
            env,
            "stg_stripe__subscriptions",
            ("subscription_id",),
            [
                accepted_values("stg_stripe__subscriptions", "subscription_status", allow_null=False),
                not_null(["customer_id"], show=("subscription_id",)),
                references(
                    "customer_id",
                    f"{S}.stg_stripe__customers",
                    "customer_id",
                    key=("subscription_id",),
                    severity="warning",
                    name="expect_subscription_customer_resolves",
                ),
            ],
            {"subscription_id": "text", "customer_id": "text", "current_period_end_at": TS, "created_at": TS},
            raw_pk="stripe__subscriptions",
        ),
        _suite(
            env,
            "stg_stripe__subscription_items",
            ("subscription_item_id",),
            [
                accepted_values("stg_stripe__subscription_items", "billing_interval"),
                between(["quantity", "unit_amount_cents"], 0, None, key=("subscription_item_id",)),
            ],
            {"quantity": "integer"},
        ),
        _suite(
            env,
            "stg_stripe__invoices",
            ("invoice_id",),
            [accepted_values("stg_stripe__invoices", "invoice_status")],
            {"invoice_id": "text", "created_at": TS},
            raw_pk="stripe__invoices",
        ),
        _suite(env, "stg_stripe__invoice_lines", ("invoice_line_id",), [not_null(["invoice_id"])]),
        _suite(env, "stg_stripe__products", ("product_id",), [], raw_pk="stripe__products"),
        _suite(env, "stg_stripe__prices", ("price_id",), [], raw_pk="stripe__prices"),
        _suite(
            env,
            "stg_stripe__events",
            ("event_id",),
            [not_null(["event_type", "created_at"], show=("event_id",))],
            {"created_at": TS},
            raw_pk="stripe__events",
        ),
        _suite(
            env,
            "stg_mixpanel__users",
            ("user_id",),
            [
                not_null(["account_id"], show=("user_id", "email"), name="expect_account_id_not_null"),
                accepted_values("stg_mixpanel__users", "user_role"),
            ],
            {"user_id": "text", "account_id": "text", "activated_on": "date"},
        ),
        # Millions of rows: the key is the raw primary key (no scan) and every row rule is one
        # query, so the view is read once — and only from the last passing run's cursor_at minus
        # the late-arrival days (raw._cursor, indexed): events are immutable, older ones were checked.
        _suite(
            env,
            "stg_mixpanel__events",
            ("event_id",),
            [
                offending_rows(
                    "expect_event_complete",
                    "select event_id, user_id, account_id, occurred_at from {batch} as b "
                    "where user_id is null or account_id is null or occurred_at is null "
                    f"or occurred_at > now() + interval '{env.settings.future_tolerance_hours} hours'",
                    "Every event has a user, an account and a time not in the future.",
                ),
            ],
            {"event_id": "text", "occurred_at": TS, "cursor_at": TS},
            raw_pk="mixpanel__events",
            dated_by="cursor_at",
        ),
    ]
