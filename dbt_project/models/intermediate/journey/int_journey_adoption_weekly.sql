-- One row per account and week of its life (week k covers started_on + 7k to + 7k + 6): the
-- product usage of that week as evidence of adoption, and whether the account is retained
-- at the end of the week (DOMAIN.md section 2: retention on sustained adoption evidence).
-- A week is good when active user-days per purchased seat and day reach
-- var journey_retention_usage_min, low when they stay under var journey_regression_usage_max.
-- The account is retained after var journey_retention_weeks good weeks in a row, and stops
-- being retained after var journey_regression_weeks low weeks in a row, a regression trigger
-- (champion left, mid-term seat cut, merger) or a week of onboarding.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}
    where started_on is not null

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}

),

seat_history as (

    select * from {{ ref('int_account_seats_monthly') }}

),

triggers as (

    select * from {{ ref('int_journey_triggers_detected') }}
    where trigger_type in ('champion_left', 'seat_contraction', 'merger')

),

account_weeks as (

    select
        accounts.company_id,
        accounts.product_account_id,
        accounts.seats,
        coalesce(
            accounts.first_graduated_on,
            accounts.onboarding_target_date + {{ var('journey_unrecorded_graduation_days') }}
        ) as first_graduated_on,
        week_index,
        accounts.started_on + 7 * week_index as week_start
    from accounts
    cross join lateral generate_series(
        0,
        (least({{ as_of_date() }}, coalesce(accounts.churned_on - 1, {{ as_of_date() }})) - accounts.started_on) / 7
    ) as week_index

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
        coalesce(seat_history.seats, account_weeks.seats) as seats,
        case
            when account_weeks.week_start >= '{{ var("events_start_date") }}'::date
                then coalesce(weekly_usage.active_user_days, 0)
        end as active_user_days,
        account_weeks.week_start < coalesce(account_weeks.first_graduated_on, 'infinity'::date) as is_onboarding,
        weekly_shocks.company_id is not null as has_trigger
    from account_weeks
    left join weekly_usage
        on account_weeks.company_id = weekly_usage.company_id and account_weeks.week_index = weekly_usage.week_index
    left join weekly_shocks
        on account_weeks.company_id = weekly_shocks.company_id and account_weeks.week_index = weekly_shocks.week_index
    left join seat_history
        on
            account_weeks.company_id = seat_history.company_id
            and date_trunc('month', account_weeks.week_start)::date = seat_history.month_start

),

classified as (

    select
        measured.*,
        round(measured.active_user_days::numeric / nullif(7 * measured.seats, 0), 4) as usage_per_seat_day,
        coalesce(
            not measured.is_onboarding
            and not measured.has_trigger
            and measured.active_user_days::numeric / nullif(7 * measured.seats, 0)
            >= {{ var('journey_retention_usage_min') }},
            false
        ) as is_good_week,
        coalesce(
            measured.active_user_days::numeric / nullif(7 * measured.seats, 0)
            < {{ var('journey_regression_usage_max') }},
            false
        ) as is_low_week
    from measured

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
        seats,
        active_user_days,
        usage_per_seat_day,
        is_onboarding,
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
