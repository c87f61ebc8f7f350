{{ config(pre_hook="set local work_mem = '" ~ var('heavy_model_work_mem') ~ "'") }}
{%- set build_start = daily_build_start(history_start_date()) %}
-- One row per product user and day over the history window ending at as_of_date:
-- behavioural tier, maturity, feature depth against the role target, and the progression
-- milestones reached so far. Incremental (macros/daily_windows.sql): a run reads only the
-- rebuilt days and carries the milestones reached before them from the day before.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
with

user_days as (

    select * from {{ ref('int_user_days_spined') }}
    {% if is_incremental() %}
        where date_day >= {{ build_start }}
    {% endif %}

),

reached_before as (

    -- Milestones reached before the rebuilt days, from the table's day before them (a full
    -- build reads every day: none).
    {% if is_incremental() %}
        select
            user_id,
            is_regular_use_reached as reached_regular_use,
            is_habit_reached as reached_habit,
            is_advanced_reached as reached_advanced
        from {{ this }}
        where calendar_date = {{ build_start }} - 1
    {% else %}
        select
            null::text as user_id,
            false as reached_regular_use,
            false as reached_habit,
            false as reached_advanced
        where false
    {% endif %}

),

role_targets as (

    select * from {{ ref('role_targets') }}

),

measured as (

    select
        user_days.*,
        round(user_days.features_used_30d::numeric / nullif(user_days.relevant_feature_count, 0), 4)
        as feature_depth_30d,
        user_days.active_days_28d
        < user_days.active_days_prev_28d * (1 - {{ var('usage_decline_tolerance') }}) as is_declining,
        (user_days.date_day - user_days.first_active_on) as days_since_first_activity,
        (user_days.date_day - user_days.last_active_on) as days_since_last_activity,
        (user_days.feature_mask_30d & user_days.advanced_feature_mask) != 0 as used_advanced_feature_30d
    from user_days

),

tiered as (

    select
        measured.*,
        case
            when measured.first_active_on is null then 'never_activated'
            when measured.days_since_last_activity >= {{ var('dormant_after_days') }} then 'dormant'
            when
                measured.active_days_7d >= {{ var('power_min_active_days_7d') }}
                and measured.feature_depth_30d >= {{ var('power_min_feature_depth') }}
                and not measured.is_declining
                then 'power'
            when
                measured.active_days_28d >= {{ var('casual_min_active_days_28d') }}
                and measured.feature_depth_30d >= {{ var('casual_min_feature_depth') }}
                and not measured.is_declining
                then 'casual'
            else 'at_risk'
        end as adoption_tier,
        case
            when measured.first_active_on is null then 'not_started'
            when measured.days_since_first_activity < {{ var('maturity_growing_after_days') }} then 'new'
            when measured.days_since_first_activity < {{ var('maturity_mature_after_days') }} then 'growing'
            else 'mature'
        end as maturity,
        measured.logins_7d >= {{ var('regular_use_logins_per_week') }} as is_regular_use,
        measured.active_days_7d >= {{ var('power_min_active_days_7d') }}
        and measured.feature_depth_30d >= {{ var('habit_feature_depth') }} as is_habit,
        measured.feature_depth_30d >= {{ var('advanced_feature_depth') }}
        and measured.used_advanced_feature_30d as is_advanced
    from measured

),

milestones as (

    select
        tiered.*,
        tiered.first_active_on is not null
        and tiered.first_active_on <= tiered.invited_on + 7 as reached_week1_activation,
        -- A day whose depth is unknown (no role-relevant features) reaches nothing.
        coalesce(bool_or(tiered.is_regular_use) over to_date, false)
        or coalesce(reached_before.reached_regular_use, false) as reached_regular_use,
        coalesce(bool_or(tiered.is_habit) over to_date, false)
        or coalesce(reached_before.reached_habit, false) as reached_habit,
        coalesce(bool_or(tiered.is_advanced) over to_date, false)
        or coalesce(reached_before.reached_advanced, false) as reached_advanced
    from tiered
    left join reached_before on tiered.user_id = reached_before.user_id
    window
        to_date as (
            partition by tiered.user_id
            order by tiered.date_day rows between unbounded preceding and current row
        )

),

final as (

    select
        milestones.user_day_id,
        milestones.user_id,
        milestones.date_day as calendar_date,
        milestones.account_id,
        milestones.company_id,
        milestones.user_role,
        milestones.invited_on as invited_date,
        milestones.first_active_on as first_active_date,
        milestones.last_active_on as last_active_date,
        milestones.is_active,
        milestones.event_count,
        milestones.active_days_7d,
        milestones.active_days_28d,
        milestones.active_days_prev_28d,
        milestones.logins_7d,
        milestones.is_declining,
        milestones.features_used_30d,
        milestones.relevant_feature_count,
        coalesce(milestones.feature_depth_30d, 0) as feature_depth_30d,
        role_targets.feature_depth_target as role_feature_depth_target,
        coalesce(milestones.feature_depth_30d >= role_targets.feature_depth_target, false) as is_role_depth_target_met,
        milestones.adoption_tier,
        milestones.maturity,
        milestones.reached_week1_activation as is_week1_activation_reached,
        milestones.reached_regular_use as is_regular_use_reached,
        milestones.reached_habit as is_habit_reached,
        milestones.reached_advanced as is_advanced_reached
    from milestones
    left join role_targets on milestones.user_role = role_targets.role
    where milestones.date_day >= {{ build_start }}

)

select * from final
{{ daily_write_order() }}
