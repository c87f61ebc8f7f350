-- Adoption funnel by monthly invitation cohort and segment (all segments per cohort:
-- fct_adoption_funnel_by_cohort): invited → logged in within logged_in_within_days → activated (first feature use) → second session → weekly
-- habit (regular use) → power user, with conversion from the previous step and drop-off.
with

milestones as (

    select * from {{ ref('int_user_milestones_reached') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

users as (

    select
        date_trunc('month', milestones.invited_on)::date as cohort_month,
        coalesce(accounts.segment, 'unknown') as segment,
        milestones.first_active_on <= milestones.invited_on + {{ var('logged_in_within_days') }} as reached_logged_in,
        milestones.activated_on is not null as reached_activated,
        milestones.second_session_on is not null as reached_second_session,
        milestones.regular_use_on is not null as reached_weekly_habit,
        milestones.power_use_on is not null as reached_power_user
    from milestones
    left join accounts on milestones.company_id = accounts.company_id

),

counted as (

    select
        cohort_month,
        segment,
        count(*) as invited,
        count(*) filter (where reached_logged_in) as logged_in,
        count(*) filter (where reached_logged_in and reached_activated) as activated,
        count(*) filter (where reached_logged_in and reached_activated and reached_second_session) as second_session,
        count(*) filter (
            where reached_logged_in and reached_activated and reached_second_session and reached_weekly_habit
        ) as weekly_habit,
        count(*) filter (
            where
            reached_logged_in and reached_activated and reached_second_session and reached_weekly_habit
            and reached_power_user
        ) as power_user
    from users
    group by cohort_month, segment

),

steps as (

    select
        counted.cohort_month,
        counted.segment,
        step.step_order,
        step.step_name,
        step.users_reached
    from counted
    cross join lateral (
        values
        (1, 'invited', counted.invited),
        (2, 'logged_in', counted.logged_in),
        (3, 'activated', counted.activated),
        (4, 'second_session', counted.second_session),
        (5, 'weekly_habit', counted.weekly_habit),
        (6, 'power_user', counted.power_user)
    ) as step (step_order, step_name, users_reached)

),

final as (

    select
        md5(steps.cohort_month::text || '|' || steps.segment || '|' || steps.step_name) as funnel_step_id,
        steps.cohort_month,
        steps.segment,
        steps.step_order,
        steps.step_name,
        steps.users_reached,
        round(
            steps.users_reached::numeric
            / nullif(lag(steps.users_reached) over by_step, 0), 4
        ) as conversion_from_previous,
        coalesce(lag(steps.users_reached) over by_step - steps.users_reached, 0) as dropped_off,
        round(steps.users_reached::numeric / nullif(first_value(steps.users_reached) over by_step, 0), 4)
        as conversion_from_invited
    from steps
    window by_step as (
        partition by steps.cohort_month, steps.segment
        order by steps.step_order
    )

)

select * from final
