-- Past renewals with their outcome and the scores they had: one row per contract term that
-- ended at least var risk_model_label_grace_days before as_of_date (so its outcome is known),
-- with the risk score, method, health band and forecast category of the last run on or before
-- 90, 60 and 30 days before the contract end (from fct_renewal_risk_history, within
-- var renewal_outcome_score_tolerance_days; null when no run scored it then).
{%- set grace = var('risk_model_label_grace_days') %}
with

terms as (

    select * from {{ ref('int_contract_terms_derived') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

history as (

    select * from {{ ref('fct_renewal_risk_history') }}

),

ended as (

    select
        terms.contract_term_id,
        terms.company_id,
        accounts.segment,
        terms.term_start_date,
        terms.contract_end_date,
        case
            when accounts.churned_on <= terms.contract_end_date + {{ grace }} then accounts.churned_on
        end as churned_on
    from terms
    inner join accounts on terms.company_id = accounts.company_id
    where
        terms.contract_end_date <= {{ as_of_date() }} - {{ grace }}
        and coalesce(accounts.churned_on > terms.term_start_date, true)

),

scores as (

    -- Per renewal and lead, the last run on or before that many days before the end.
    select distinct on (ended.contract_term_id, leads.lead_days)
        ended.contract_term_id,
        leads.lead_days,
        history.as_of_date,
        history.arr_usd,
        history.risk_score,
        history.risk_method,
        history.health_band,
        history.forecast_category
    from ended
    cross join unnest(array[90, 60, 30]) as leads (lead_days)
    inner join history
        on
            ended.contract_term_id = history.contract_term_id
            and history.as_of_date <= ended.contract_end_date - leads.lead_days
            and history.as_of_date
            > ended.contract_end_date - leads.lead_days - {{ var('renewal_outcome_score_tolerance_days') }}
    order by ended.contract_term_id asc, leads.lead_days asc, history.as_of_date desc

),

final as (

    select
        ended.contract_term_id,
        ended.company_id,
        ended.segment,
        ended.term_start_date,
        ended.contract_end_date,
        ended.churned_on is not null as is_churned,
        ended.churned_on as churned_date,
        coalesce(scores_90d.arr_usd, scores_60d.arr_usd, scores_30d.arr_usd) as arr_usd,
        scores_90d.as_of_date as scored_90d_date,
        scores_90d.risk_score as risk_score_90d,
        scores_90d.risk_method as risk_method_90d,
        scores_90d.health_band as health_band_90d,
        scores_90d.forecast_category as forecast_category_90d,
        scores_60d.as_of_date as scored_60d_date,
        scores_60d.risk_score as risk_score_60d,
        scores_60d.risk_method as risk_method_60d,
        scores_60d.health_band as health_band_60d,
        scores_60d.forecast_category as forecast_category_60d,
        scores_30d.as_of_date as scored_30d_date,
        scores_30d.risk_score as risk_score_30d,
        scores_30d.risk_method as risk_method_30d,
        scores_30d.health_band as health_band_30d,
        scores_30d.forecast_category as forecast_category_30d
    from ended
    left join scores as scores_90d
        on ended.contract_term_id = scores_90d.contract_term_id and scores_90d.lead_days = 90
    left join scores as scores_60d
        on ended.contract_term_id = scores_60d.contract_term_id and scores_60d.lead_days = 60
    left join scores as scores_30d
        on ended.contract_term_id = scores_30d.contract_term_id and scores_30d.lead_days = 30

)

select * from final
