-- The days renewal risk is read on, one row per contract term and feature date. Training rows
-- are the warehouse's own past renewals whose outcome is known on as_of_date, seen at each lead
-- of var risk_model_training_leads before their contract end while the account was live, and
-- labelled churned when the account left within var risk_model_label_grace_days after the
-- end; scoring rows are the current terms seen on as_of_date. A table of its own (analyzed),
-- so int_renewal_features_derived plans its joins from real row counts.
{%- set leads = var('risk_model_training_leads') %}
{%- set grace = var('risk_model_label_grace_days') %}
with

terms as (

    select * from {{ ref('int_contract_terms_derived') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

terms_with_accounts as (

    select
        terms.contract_term_id,
        terms.company_id,
        terms.term_start_date,
        terms.contract_end_date,
        accounts.started_on,
        accounts.churned_on,
        accounts.segment
    from terms
    inner join accounts on terms.company_id = accounts.company_id

),

training_points as (

    -- Renewals whose outcome is known on as_of_date: churned within the grace after the end,
    -- or still a customer after it. Each is seen at every lead while the account was live.
    select
        terms_with_accounts.*,
        leads.lead_days,
        terms_with_accounts.contract_end_date - leads.lead_days as feature_date,
        true as is_training,
        coalesce(terms_with_accounts.churned_on <= terms_with_accounts.contract_end_date + {{ grace }}, false)
        as is_churned
    from terms_with_accounts
    cross join unnest(array[{{ leads | join(', ') }}]) as leads (lead_days)
    where
        terms_with_accounts.contract_end_date <= {{ as_of_date() }} - {{ grace }}
        and terms_with_accounts.contract_end_date > {{ as_of_date() }} - {{ var('risk_model_training_days') }}
        and terms_with_accounts.term_start_date <= terms_with_accounts.contract_end_date - leads.lead_days
        and coalesce(terms_with_accounts.churned_on > terms_with_accounts.contract_end_date - leads.lead_days, true)

),

scoring_points as (

    select
        terms_with_accounts.*,
        terms_with_accounts.contract_end_date - {{ as_of_date() }} as lead_days,
        {{ as_of_date() }} as feature_date,
        false as is_training,
        null::boolean as is_churned
    from terms_with_accounts
    where
        terms_with_accounts.term_start_date <= {{ as_of_date() }}
        and terms_with_accounts.contract_end_date > {{ as_of_date() }}
        and coalesce(terms_with_accounts.churned_on > {{ as_of_date() }}, true)

),

unioned as (

    select * from training_points
    union all
    select * from scoring_points

),

final as (

    select
        md5(contract_term_id || '|' || feature_date::text) as risk_point_id,
        contract_term_id,
        company_id,
        segment,
        started_on,
        term_start_date,
        contract_end_date,
        lead_days,
        feature_date,
        is_training,
        is_churned
    from unioned

)

select * from final
