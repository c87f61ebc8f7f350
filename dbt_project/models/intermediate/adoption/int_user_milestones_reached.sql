-- One row per product user over their whole history up to as_of_date: first activity,
-- first feature use (activation), second active day, first week with regular use (active
-- on regular_use_logins_per_week days within 7 days) and first week with power-level
-- frequency (power_min_active_days_7d days within 7 days), last active day and active days.
with

users as (

    select * from {{ ref('stg_mixpanel__users') }}
    where invited_on <= {{ as_of_date() }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date <= {{ as_of_date() }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

milestones as (

    -- One aggregate over the user-days: each stores its 7-day active-day count and the
    -- previous active day, so no window has to sort the whole history here.
    select
        user_id,
        min(activity_date) as first_active_on,
        min(activity_date) filter (where feature_event_count > 0) as activated_on,
        min(activity_date) filter (where previous_active_date is not null) as second_session_on,
        min(activity_date) filter (
            where active_days_7d >= {{ var('regular_use_logins_per_week') }}
        ) as regular_use_on,
        min(activity_date) filter (where active_days_7d >= {{ var('power_min_active_days_7d') }}) as power_use_on,
        max(activity_date) as last_active_on,
        count(*) as active_days
    from user_days
    group by user_id

),

final as (

    select
        users.user_id,
        users.account_id,
        resolved.company_id,
        users.user_role,
        users.invited_on,
        milestones.first_active_on,
        milestones.activated_on,
        milestones.second_session_on,
        milestones.regular_use_on,
        milestones.power_use_on,
        milestones.last_active_on,
        coalesce(milestones.active_days, 0) as active_days
    from users
    left join milestones on users.user_id = milestones.user_id
    left join resolved on users.account_id = resolved.product_account_id

)

select * from final
