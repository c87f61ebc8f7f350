-- One row per CRM company: what the account-level marts share about it on as_of_date. Whether
-- it is live (started, not churned), its health score and band, its journey stage flags and
-- its latest NPS answer. fct_expansion_signals, fct_advocacy_candidates and mart_crm_sync read
-- it. Health and stages come from their marts, so this is a mart too: an intermediate model
-- never depends on a mart.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

health as (

    select * from {{ ref('fct_account_health_daily') }}
    where calendar_date = {{ as_of_date() }}

),

stages as (

    select * from {{ ref('fct_journey_stage_daily') }}
    where calendar_date = {{ as_of_date() }}

),

nps_responses as (

    select * from {{ ref('int_nps_responses_joined') }}
    where company_id is not null and submitted_on <= {{ as_of_date() }}

),

latest_nps as (

    select distinct on (company_id)
        company_id,
        nps_score
    from nps_responses
    order by company_id asc, submitted_at desc

),

final as (

    select
        accounts.company_id,
        {{ as_of_date() }} as as_of_date,
        accounts.segment,
        accounts.started_on as started_date,
        accounts.seats,
        accounts.seat_limit,
        accounts.arr_usd,
        coalesce(accounts.started_on <= {{ as_of_date() }}, false)
        and coalesce(accounts.churned_on > {{ as_of_date() }}, true) as is_live,
        health.health_score,
        health.health_band,
        stages.primary_stage,
        stages.is_onboarding,
        stages.is_in_regression,
        stages.is_expansion,
        stages.is_renewal,
        latest_nps.nps_score as latest_nps_score
    from accounts
    left join health on accounts.company_id = health.company_id
    left join stages on accounts.company_id = stages.company_id
    left join latest_nps on accounts.company_id = latest_nps.company_id

)

select * from final
