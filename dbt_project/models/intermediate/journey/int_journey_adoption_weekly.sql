-- One row per account and week of its life (week k covers started_on + 7k to + 7k + 6): the
-- product usage of that week as evidence of adoption, and whether the account is retained
-- at the end of the week (DOMAIN.md section 2: retention on sustained adoption evidence).
-- Usage is measured per user actually on board: active user-days per day and per user seen
-- active by the end of the week, each user weighted by the activity rate across the base of
-- the users with the same role and feature breadth (executives use the product less than end
-- users, and users who use few features less than power users), over the last
-- var journey_usage_window_weeks weeks. A week is good when that rate reaches
-- var journey_retention_usage_min, low when it stays under var journey_regression_usage_max.
-- No week is good while the roll-out runs: until var journey_rollout_phase_share of the
-- segment's adoption phase (seed segment_targets) has passed since graduation.
-- The account is retained after var journey_retention_weeks good weeks in a row, and stops
-- being retained after var journey_regression_weeks low weeks in a row, a regression trigger
-- (champion left, mid-term seat cut, merger) or a week of onboarding.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}
    where started_on is not null

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}

),

triggers as (

    select * from {{ ref('int_journey_triggers_detected') }}
    where trigger_type in ('champion_left', 'seat_contraction', 'merger')

),

account_weeks as (

    select
        accounts.company_id,
        accounts.product_account_id,
        coalesce(
            accounts.first_graduated_on,
            accounts.onboarding_target_date + {{ var('journey_unrecorded_graduation_days') }}
        ) as first_graduated_on,
        round(segment_targets.adoption_phase_days * {{ var('journey_rollout_phase_share') }})::integer as rollout_days,
        week_index,
        accounts.started_on + 7 * week_index as week_start
    from accounts
    left join segment_targets on accounts.segment = segment_targets.segment
    cross join lateral generate_series(
        0,
        (least({{ as_of_date() }}, coalesce(accounts.churned_on - 1, {{ as_of_date() }})) - accounts.started_on) / 7
    ) as week_index

),

user_spans as (

    -- Each user's first active day, activity and feature breadth (distinct features used).
    select
        account_id,
        user_id,
        coalesce(max(user_role), 'unknown') as user_role,
        bit_count(bit_or(feature_mask)::bit(32)) as feature_breadth,
        min(activity_date) as first_active_on,
        count(*) as active_days,
        {{ as_of_date() }} - min(activity_date) + 1 as exposure_days
    from user_days
    group by account_id, user_id

),

profile_rates as (

    -- Active days per day of the users of each role and feature breadth across the base.
    select
        user_role,
        feature_breadth,
        sum(active_days)::numeric / nullif(sum(exposure_days), 0) as active_day_rate
    from user_spans
    group by user_role, feature_breadth

),

base_rate as (

    select sum(active_days)::numeric / nullif(sum(exposure_days), 0) as active_day_rate
    from user_spans

),

profile_weights as (

    -- A profile's activity rate relative to all users' (a weighted user count stays close to
    -- the plain count).
    select
        profile_rates.user_role,
        profile_rates.feature_breadth,
        round(profile_rates.active_day_rate / nullif(base_rate.active_day_rate, 0), 4) as user_weight
    from profile_rates
    cross join base_rate

),

weighted_users as (

    select
        user_spans.account_id,
        user_spans.first_active_on,
        coalesce(profile_weights.user_weight, 1) as user_weight
    from user_spans
    left join profile_weights
        on
            user_spans.user_role = profile_weights.user_role
            and user_spans.feature_breadth = profile_weights.feature_breadth

),

new_users as (

    -- Weighted users by the week of the account's life in which they were first seen active.
    select
        accounts.company_id,
        greatest(0, (weighted_users.first_active_on - accounts.started_on) / 7) as week_index,
        sum(weighted_users.user_weight) as new_weighted_users
    from accounts
    inner join weighted_users on accounts.product_account_id = weighted_users.account_id
    group by accounts.company_id, greatest(0, (weighted_users.first_active_on - accounts.started_on) / 7)

),

weekly_users as (

    -- Weighted users seen active by the end of the week (a running sum, no range join).
    select
        account_weeks.company_id,
        account_weeks.week_index,
        sum(coalesce(new_users.new_weighted_users, 0)) over (
            partition by account_weeks.company_id
            order by account_weeks.week_index
            rows between unbounded preceding and current row
        ) as weighted_users
    from account_weeks
    left join new_users
        on account_weeks.company_id = new_users.company_id and account_weeks.week_index = new_users.week_index

),

daily_users as (

    select
        account_id,
        activity_date,
        count(*) as active_users
    from user_days
    group by account_id, activity_date

),

weekly_usage as (

    select
        account_weeks.company_id,
        account_weeks.week_index,
        sum(daily_users.active_users) as active_user_days
    from account_weeks
    inner join daily_users
        on
            account_weeks.product_account_id = daily_users.account_id
            and daily_users.activity_date between account_weeks.week_start and account_weeks.week_start + 6
    group by account_weeks.company_id, account_weeks.week_index

),

weekly_shocks as (

    select distinct
        account_weeks.company_id,
        account_weeks.week_index
    from account_weeks
    inner join triggers
        on
            account_weeks.company_id = triggers.company_id
            and triggers.triggered_on between account_weeks.week_start and account_weeks.week_start + 6

),

measured as (

    -- Weeks before the first product event day carry no usage evidence (null ratio).
    select
        account_weeks.company_id,
        account_weeks.week_index,
        account_weeks.week_start,
        coalesce(weekly_users.weighted_users, 0) as weighted_users,
        case
            when account_weeks.week_start >= '{{ var("events_start_date") }}'::date
                then coalesce(weekly_usage.active_user_days, 0)
        end as active_user_days,
        account_weeks.week_start < coalesce(account_weeks.first_graduated_on, 'infinity'::date) as is_onboarding,
        -- Roll-out takes time: no week before this share of the segment's adoption phase has
        -- passed since graduation counts as good.
        account_weeks.week_start < coalesce(
            account_weeks.first_graduated_on + account_weeks.rollout_days, 'infinity'::date
        ) as is_rolling_out,
        weekly_shocks.company_id is not null as has_trigger
    from account_weeks
    left join weekly_usage
        on account_weeks.company_id = weekly_usage.company_id and account_weeks.week_index = weekly_usage.week_index
    left join weekly_shocks
        on account_weeks.company_id = weekly_shocks.company_id and account_weeks.week_index = weekly_shocks.week_index
    left join weekly_users
        on account_weeks.company_id = weekly_users.company_id and account_weeks.week_index = weekly_users.week_index

),

window_sums as (

    -- Usage over the window of weeks ending with each week.
    select
        measured.company_id,
        measured.week_index,
        count(earlier.active_user_days) as measured_weeks,
        sum(earlier.active_user_days) as active_user_days,
        sum(7 * earlier.weighted_users) as weighted_user_days
    from measured
    inner join measured as earlier
        on
            measured.company_id = earlier.company_id
            and earlier.week_index > measured.week_index - {{ var('journey_usage_window_weeks') }}
            and earlier.week_index <= measured.week_index
    group by measured.company_id, measured.week_index

),

windowed as (

    -- The rate is null until the window holds that many measured weeks.
    select
        measured.*,
        case
            when window_sums.measured_weeks = {{ var('journey_usage_window_weeks') }}
                then round(window_sums.active_user_days::numeric / nullif(window_sums.weighted_user_days, 0), 4)
        end as usage_per_user_day
    from measured
    inner join window_sums
        on measured.company_id = window_sums.company_id and measured.week_index = window_sums.week_index

),

classified as (

    select
        windowed.*,
        coalesce(
            not windowed.is_onboarding
            and not windowed.is_rolling_out
            and not windowed.has_trigger
            and windowed.usage_per_user_day >= {{ var('journey_retention_usage_min') }},
            false
        ) as is_good_week,
        coalesce(windowed.usage_per_user_day < {{ var('journey_regression_usage_max') }}, false) as is_low_week
    from windowed

),

islands as (

    select
        classified.*,
        classified.week_index - row_number() over (
            partition by classified.company_id, classified.is_good_week
            order by classified.week_index
        ) as good_island,
        classified.week_index - row_number() over (
            partition by classified.company_id, classified.is_low_week
            order by classified.week_index
        ) as low_island
    from classified

),

streaks as (

    select
        islands.*,
        case
            when islands.is_good_week
                then row_number() over (
                    partition by islands.company_id, islands.is_good_week, islands.good_island
                    order by islands.week_index
                )
            else 0
        end as good_weeks_in_row,
        case
            when islands.is_low_week
                then row_number() over (
                    partition by islands.company_id, islands.is_low_week, islands.low_island
                    order by islands.week_index
                )
            else 0
        end as low_weeks_in_row
    from islands

),

events as (

    select
        streaks.*,
        streaks.is_onboarding
        or streaks.has_trigger
        or streaks.low_weeks_in_row >= {{ var('journey_regression_weeks') }} as resets_retention,
        streaks.good_weeks_in_row >= {{ var('journey_retention_weeks') }} as reaches_retention
    from streaks

),

latest as (

    select
        events.*,
        max(case when events.reaches_retention and not events.resets_retention then events.week_index end) over (
            partition by events.company_id
            order by events.week_index
            rows between unbounded preceding and current row
        ) as last_retained_week,
        max(case when events.resets_retention then events.week_index end) over (
            partition by events.company_id
            order by events.week_index
            rows between unbounded preceding and current row
        ) as last_reset_week
    from events

),

final as (

    select
        md5(company_id || '|' || week_index::text) as account_week_id,
        company_id,
        week_index,
        week_start,
        weighted_users,
        active_user_days,
        usage_per_user_day,
        is_onboarding,
        is_rolling_out,
        has_trigger,
        is_good_week,
        is_low_week,
        good_weeks_in_row,
        low_weeks_in_row,
        coalesce(last_retained_week > coalesce(last_reset_week, -1), false) as is_retained,
        -- Retained before, then lost it to a low spell or a trigger (not to onboarding alone).
        coalesce(last_retained_week < last_reset_week, false) and not is_onboarding as is_regressed
    from latest

)

select * from final
