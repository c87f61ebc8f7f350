-- One row per live account on as_of_date: expansion triggers (seats or plan limit nearly
-- used, healthy promoter, renewal timing that allows bundling, open expansion deal) and the
-- strongest one as the signal sent to the CRM.
with

accounts as (

    select * from {{ ref('dim_accounts_scored') }}
    where is_live

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day = {{ as_of_date() }}

),

evaluated as (

    select
        accounts.company_id,
        accounts.segment,
        accounts.seats,
        accounts.seat_limit,
        accounts.arr_usd,
        usage.users_invited,
        usage.monthly_active_users,
        accounts.health_score,
        accounts.latest_nps_score,
        round(usage.users_invited::numeric / nullif(accounts.seats, 0), 4) as seat_utilisation,
        round(accounts.seats::numeric / nullif(accounts.seat_limit, 0), 4) as plan_limit_utilisation,
        {{ as_of_date() }}
        >= (accounts.started_on + make_interval(months => segment_targets.expansion_min_months))::date
        as is_expansion_eligible_by_tenure,
        coalesce(usage.users_invited >= {{ var('seat_limit_approach_ratio') }} * accounts.seats, false)
        as signal_seats_nearly_used,
        coalesce(accounts.seats >= {{ var('seat_limit_approach_ratio') }} * accounts.seat_limit, false)
        as signal_plan_limit_near,
        coalesce(
            accounts.health_score >= {{ var('expansion_min_health') }}
            and accounts.latest_nps_score >= {{ var('promoter_min_score') }},
            false
        ) as signal_healthy_promoter,
        coalesce(accounts.is_renewal, false) as signal_renewal_bundling,
        coalesce(accounts.is_expansion, false) as has_open_expansion_deal
    from accounts
    left join segment_targets on accounts.segment = segment_targets.segment
    left join usage on accounts.company_id = usage.company_id

),

final as (

    select
        evaluated.company_id,
        {{ as_of_date() }} as as_of_date,
        evaluated.segment,
        evaluated.seats,
        evaluated.seat_limit,
        evaluated.arr_usd,
        evaluated.users_invited,
        evaluated.monthly_active_users,
        evaluated.seat_utilisation,
        evaluated.plan_limit_utilisation,
        evaluated.health_score,
        evaluated.latest_nps_score,
        evaluated.is_expansion_eligible_by_tenure,
        evaluated.signal_seats_nearly_used,
        evaluated.signal_plan_limit_near,
        evaluated.signal_healthy_promoter,
        evaluated.signal_renewal_bundling,
        evaluated.has_open_expansion_deal,
        (
            evaluated.signal_seats_nearly_used::integer + evaluated.signal_plan_limit_near::integer
            + evaluated.signal_healthy_promoter::integer + evaluated.signal_renewal_bundling::integer
        ) as signal_count,
        case
            when evaluated.has_open_expansion_deal then 'open_opportunity'
            when not evaluated.is_expansion_eligible_by_tenure then 'none'
            when evaluated.signal_plan_limit_near then 'plan_limit'
            when evaluated.signal_seats_nearly_used then 'seat_limit'
            when evaluated.signal_healthy_promoter then 'healthy_promoter'
            when evaluated.signal_renewal_bundling then 'renewal_bundling'
            else 'none'
        end as expansion_signal
    from evaluated

)

select * from final
