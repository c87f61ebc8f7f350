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
        >= (accounts.started_date + make_interval(months => segment_targets.expansion_min_months))::date
        as is_expansion_eligible_by_tenure,
        coalesce(usage.users_invited >= {{ var('seat_limit_approach_ratio') }} * accounts.seats, false)
        as is_seats_nearly_used,
        coalesce(accounts.seats >= {{ var('seat_limit_approach_ratio') }} * accounts.seat_limit, false)
        as is_plan_limit_near,
        coalesce(
            accounts.health_score >= {{ var('expansion_min_health') }}
            and accounts.latest_nps_score >= {{ var('promoter_min_score') }},
            false
        ) as is_healthy_promoter,
        coalesce(accounts.is_renewal, false) as is_renewal_bundling_possible,
        coalesce(accounts.is_expansion, false) as is_expansion_deal_open
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
        evaluated.is_seats_nearly_used,
        evaluated.is_plan_limit_near,
        evaluated.is_healthy_promoter,
        evaluated.is_renewal_bundling_possible,
        evaluated.is_expansion_deal_open,
        (
            evaluated.is_seats_nearly_used::integer + evaluated.is_plan_limit_near::integer
            + evaluated.is_healthy_promoter::integer + evaluated.is_renewal_bundling_possible::integer
        ) as signal_count,
        case
            when evaluated.is_expansion_deal_open then 'open_opportunity'
            when not evaluated.is_expansion_eligible_by_tenure then 'none'
            when evaluated.is_plan_limit_near then 'plan_limit'
            when evaluated.is_seats_nearly_used then 'seat_limit'
            when evaluated.is_healthy_promoter then 'healthy_promoter'
            when evaluated.is_renewal_bundling_possible then 'renewal_bundling'
            else 'none'
        end as expansion_signal
    from evaluated

)

select * from final
