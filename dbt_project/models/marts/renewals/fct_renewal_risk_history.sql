{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='as_of_date',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['as_of_date']}, {'columns': ['contract_term_id', 'as_of_date']}],
        post_hook=["delete from {{ this }} where as_of_date < {{ as_of_date() }} - {{ var('score_history_days') }}"]
    )
}}
-- Every run's renewal scores, one row per contract term and as-of day, as they were computed
-- that day: risk (fitted and rule points), health, forecast and drivers. fct_renewals holds
-- only today; this keeps var score_history_days days for back-tests (fct_renewal_outcomes). A
-- rerun or backfill of a day replaces that day only.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
with

renewals as (

    select * from {{ ref('fct_renewals') }}

),

final as (

    select
        md5(contract_term_id || '|' || as_of_date::text) as renewal_score_id,
        contract_term_id,
        company_id,
        as_of_date,
        segment,
        arr_usd,
        contract_end_date,
        days_to_renewal,
        risk_score,
        risk_method,
        risk_score_rules,
        risk_probability,
        risk_model_version,
        risk_drivers,
        health_score,
        health_band,
        forecast_category
    from renewals

)

select * from final
