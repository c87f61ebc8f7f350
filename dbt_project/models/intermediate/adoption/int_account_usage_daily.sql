{%- set build_start = daily_build_start(padded_history_start_date()) %}
-- Account usage per day, from the history window start minus the lookback padding (health
-- needs 30 days before the window for its 30-day change): purchased seats, DAU/WAU/MAU and
-- their ratios to seats, account feature depth (features used in 30 days over the features
-- relevant to the roles of the account's active users), and whether the account meets the
-- targets of its segment's usage type (seed usage_type_targets) and the account goals (vars).
with

user_days as (

    select * from {{ ref('int_user_days_spined') }}
    where company_id is not null and date_day >= {{ build_start }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

usage_targets as (

    select * from {{ ref('usage_type_targets') }}

),

monthly_seats as (

    select * from {{ ref('int_account_seats_monthly') }}

),

account_days as (

    select
        company_id,
        date_day,
        count(*) as users_invited,
        count(*) filter (where first_active_on is not null) as users_activated,
        count(*) filter (where is_active) as daily_active_users,
        count(*) filter (where last_active_on > date_day - 7) as weekly_active_users,
        count(*) filter (where last_active_on > date_day - 30) as monthly_active_users,
        sum(active_days_28d) as active_user_days_28d,
        sum(active_days_prev_28d) as active_user_days_prev_28d,
        bit_or(feature_mask_30d) as feature_mask_30d,
        bit_or(relevant_feature_mask) filter (where last_active_on > date_day - 30) as relevant_feature_mask
    from user_days
    group by company_id, date_day

),

measured as (

    select
        account_days.*,
        accounts.segment,
        coalesce(monthly_seats.seats, accounts.seats) as seats,
        coalesce(segment_targets.usage_type, '{{ var("default_usage_type") }}') as usage_type,
        bit_count((account_days.feature_mask_30d & coalesce(account_days.relevant_feature_mask, 0))::bit(32))
        as features_used_30d,
        bit_count(coalesce(account_days.relevant_feature_mask, 0)::bit(32)) as relevant_feature_count
    from account_days
    inner join accounts on account_days.company_id = accounts.company_id
    left join segment_targets on accounts.segment = segment_targets.segment
    left join monthly_seats
        on
            account_days.company_id = monthly_seats.company_id
            and date_trunc('month', account_days.date_day)::date = monthly_seats.month_start
    where
        account_days.date_day >= {{ build_start }}
        and account_days.date_day < coalesce(accounts.churned_on, 'infinity'::date)

),

ratios as (

    select
        measured.*,
        round(measured.daily_active_users::numeric / nullif(measured.seats, 0), 4) as dau_seat_ratio,
        round(measured.weekly_active_users::numeric / nullif(measured.seats, 0), 4) as wau_seat_ratio,
        round(measured.monthly_active_users::numeric / nullif(measured.seats, 0), 4) as mau_seat_ratio,
        round(measured.features_used_30d::numeric / nullif(measured.relevant_feature_count, 0), 4)
        as feature_depth_30d,
        round(
            measured.active_user_days_28d::numeric / nullif(measured.active_user_days_prev_28d, 0) - 1, 4
        ) as usage_trend_28d
    from measured

),

final as (

    select
        md5(ratios.company_id || '|' || ratios.date_day::text) as account_day_id,
        ratios.company_id,
        ratios.date_day,
        ratios.segment,
        ratios.usage_type,
        ratios.seats,
        ratios.users_invited,
        ratios.users_activated,
        ratios.daily_active_users,
        ratios.weekly_active_users,
        ratios.monthly_active_users,
        ratios.dau_seat_ratio,
        ratios.wau_seat_ratio,
        ratios.mau_seat_ratio,
        -- Active seats: weekly-active users over purchased seats.
        ratios.wau_seat_ratio as active_seat_ratio,
        ratios.features_used_30d,
        ratios.relevant_feature_count,
        ratios.feature_depth_30d,
        ratios.active_user_days_28d,
        ratios.active_user_days_prev_28d,
        ratios.usage_trend_28d,
        {{ var('account_active_seat_ratio_target') }} as active_seat_ratio_target,
        {{ var('account_feature_depth_target') }} as feature_depth_target,
        usage_targets.primary_window as usage_primary_window,
        usage_targets.primary_active_ratio_target as usage_primary_target,
        usage_targets.secondary_window as usage_secondary_window,
        usage_targets.secondary_active_ratio_target as usage_secondary_target,
        coalesce(ratios.wau_seat_ratio >= {{ var('account_active_seat_ratio_target') }}, false)
        as meets_active_seat_target,
        coalesce(ratios.feature_depth_30d >= {{ var('account_feature_depth_target') }}, false)
        as meets_feature_depth_target,
        coalesce(
            case usage_targets.primary_window
                when 'daily' then ratios.dau_seat_ratio
                when 'weekly' then ratios.wau_seat_ratio
                else ratios.mau_seat_ratio
            end >= usage_targets.primary_active_ratio_target
            and case usage_targets.secondary_window
                when 'daily' then ratios.dau_seat_ratio
                when 'weekly' then ratios.wau_seat_ratio
                else ratios.mau_seat_ratio
            end >= usage_targets.secondary_active_ratio_target,
            false
        ) as meets_usage_type_target
    from ratios
    left join usage_targets on ratios.usage_type = usage_targets.usage_type

)

select * from final
{{ daily_write_order() }}
