-- One row per CRM company with every value the reverse-ETL sync writes back as company
-- properties, computed for as_of_date (the score date). Column names are the reverse-ETL
-- contract (reverse_etl/mapping.py): hubspot_company_id is its key.
with

accounts as (

    select * from {{ ref('dim_accounts') }}

),

scored as (

    select * from {{ ref('dim_accounts_scored') }}

),

user_adoption as (

    select * from {{ ref('fct_user_adoption_daily') }}
    where calendar_date = {{ as_of_date() }}

),

user_tiers as (

    select
        company_id,
        adoption_tier,
        count(*) as tier_users
    from user_adoption
    where company_id is not null and adoption_tier != 'never_activated'
    group by company_id, adoption_tier

),

account_tier as (

    -- The account's adoption tier is the most common tier among its activated users (ties go
    -- to the more engaged tier).
    select distinct on (company_id)
        company_id,
        adoption_tier
    from user_tiers
    order by
        company_id asc,
        tier_users desc,
        array_position(array['power', 'casual', 'at_risk', 'dormant'], adoption_tier) asc

),

scorecard as (

    select * from {{ ref('fct_onboarding_scorecard') }}

),

renewals as (

    select * from {{ ref('fct_renewals') }}

),

expansion as (

    select * from {{ ref('fct_expansion_signals') }}

),

advocacy as (

    select * from {{ ref('fct_advocacy_candidates') }}

),

reasons as (

    select * from {{ ref('fct_account_reasons') }}

),

final as (

    select
        accounts.company_id,
        accounts.company_id as hubspot_company_id,
        scored.health_score,
        -- A company without health data (not, or not yet, a customer) says so in the CRM,
        -- with the same band value fct_account_health_daily uses.
        coalesce(scored.health_band, 'unknown') as health_band,
        scored.primary_stage,
        account_tier.adoption_tier,
        scorecard.weighted_total as onboarding_score,
        scorecard.scorecard_status as onboarding_status,
        renewals.risk_score as renewal_risk_score,
        renewals.forecast_category,
        renewals.days_to_renewal,
        coalesce(expansion.expansion_signal, 'none') != 'none' as is_expansion_signaled,
        coalesce(expansion.expansion_signal, 'none') as expansion_signal_type,
        coalesce(advocacy.is_candidate, false) as is_advocacy_candidate,
        -- Why: the drivers as phrases (seed crm_reason_phrases), how much of the score had data,
        -- and the band before the current one.
        reasons.health_reasons,
        reasons.renewal_risk_reasons,
        round(100 * reasons.health_signal_coverage)::integer as health_coverage_percent,
        reasons.health_components_used,
        reasons.previous_health_band,
        reasons.health_band_changed_date,
        {{ as_of_date() }} as score_date
    from accounts
    left join scored on accounts.company_id = scored.company_id
    left join account_tier on accounts.company_id = account_tier.company_id
    left join scorecard on accounts.company_id = scorecard.company_id
    left join renewals on accounts.company_id = renewals.company_id
    left join expansion on accounts.company_id = expansion.company_id
    left join advocacy on accounts.company_id = advocacy.company_id
    left join reasons on accounts.company_id = reasons.company_id

)

select * from final
