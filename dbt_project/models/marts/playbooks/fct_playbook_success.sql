-- Each playbook's success metric by trigger month (the first of the month; all months:
-- fct_playbook_success_by_playbook), against its target in seed playbook_targets. Only triggers whose success window has fully elapsed by
-- as_of_date are counted. New-user activation: activated within 7 days of invitation;
-- dormant re-engagement: active again within the window after 30 silent days; feature
-- launch: used the feature within the window after release; power-user development:
-- reached power-level frequency within the window after reaching regular use.
with

targets as (

    select * from {{ ref('playbook_targets') }}

),

milestones as (

    select * from {{ ref('int_user_milestones_reached') }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date <= {{ as_of_date() }}

),

last_active_days as (

    -- Each user's last active day (users with events and no profile too): a hash aggregate
    -- on its own scan, so the user-days above are not materialised for two readers.
    select
        user_id,
        max(activity_date) as last_active_on
    from {{ ref('int_user_days_aggregated') }}
    where activity_date <= {{ as_of_date() }}
    group by user_id

),

launches as (

    select * from {{ ref('feature_launches') }}

),

catalog as (

    select * from {{ ref('feature_catalog') }}

),

feature_bits as (

    select * from {{ ref('int_features_numbered') }}

),

launched_bits as (

    select
        launches.feature_key,
        launches.released_on,
        1 << feature_bits.bit_position as feature_bit
    from launches
    inner join feature_bits on launches.feature_key = feature_bits.feature_key

),

marked_user_days as (

    -- One pass over the user-days keeps the two kinds the playbooks read: days that used a
    -- launched feature (one bit test per row before any join: joined first, every user-day
    -- was paired with every launch, 6 M pairs at 10,000 accounts) and days that ended a spell
    -- of var dormant_after_days silent days or more (their stored previous active day lies
    -- that far back: a filter, where a window sorted the whole history on every run).
    select
        user_id,
        activity_date,
        feature_mask,
        previous_active_date,
        activity_date - previous_active_date > {{ var('dormant_after_days') }} as ends_dormant_spell
    from user_days
    where
        (
            activity_date >= (select min(launched_bits.released_on) from launched_bits)
            and feature_mask & (select bit_or(launched_bits.feature_bit) from launched_bits) != 0
        )
        or activity_date - previous_active_date > {{ var('dormant_after_days') }}

),

launched_feature_days as (

    select
        user_id,
        activity_date,
        feature_mask
    from marked_user_days
    where
        activity_date >= (select min(launched_bits.released_on) from launched_bits)
        and feature_mask & (select bit_or(launched_bits.feature_bit) from launched_bits) != 0

),

feature_first_use as (

    -- From the stored per-day feature masks (launched features are catalog features: see
    -- launch_adoption), not by unnesting every user-day's feature list.
    select
        launched_feature_days.user_id,
        launched_bits.feature_key,
        min(launched_feature_days.activity_date) as first_used_on
    from launched_bits
    inner join launched_feature_days
        on
            launched_bits.released_on <= launched_feature_days.activity_date
            and launched_bits.feature_bit & launched_feature_days.feature_mask != 0
    group by launched_feature_days.user_id, launched_bits.feature_key

),

dormant_spells as (

    -- Each spell's last active day and the day it ended; the spell after a user's last active
    -- day has not ended by as_of_date.
    select
        previous_active_date as last_active_on,
        activity_date as next_active_on
    from marked_user_days
    where ends_dormant_spell
    union all
    select
        last_active_on,
        null as next_active_on
    from last_active_days

),

activation as (

    select
        'new_user_activation' as playbook,
        milestones.invited_on as triggered_on,
        coalesce(milestones.activated_on <= milestones.invited_on + targets.window_days, false) as succeeded
    from milestones
    inner join targets on targets.playbook = 'new_user_activation'
    where milestones.invited_on + targets.window_days <= {{ as_of_date() }}

),

dormancy as (

    select
        'dormant_reengagement' as playbook,
        dormant_spells.last_active_on + {{ var('dormant_after_days') }} as triggered_on,
        coalesce(
            dormant_spells.next_active_on
            <= dormant_spells.last_active_on + {{ var('dormant_after_days') }} + targets.window_days,
            false
        ) as succeeded
    from dormant_spells
    inner join targets on targets.playbook = 'dormant_reengagement'
    where
        coalesce(dormant_spells.next_active_on, {{ as_of_date() }} + 1)
        > dormant_spells.last_active_on + {{ var('dormant_after_days') }}
        and dormant_spells.last_active_on + {{ var('dormant_after_days') }} + targets.window_days <= {{ as_of_date() }}

),

launch_adoption as (

    select
        'feature_launch_adoption' as playbook,
        launches.released_on as triggered_on,
        coalesce(feature_first_use.first_used_on <= launches.released_on + targets.window_days, false) as succeeded
    from milestones
    inner join catalog on milestones.user_role = catalog.role
    inner join launches on catalog.feature_key = launches.feature_key
    inner join targets on targets.playbook = 'feature_launch_adoption'
    left join feature_first_use
        on milestones.user_id = feature_first_use.user_id and launches.feature_key = feature_first_use.feature_key
    where
        milestones.invited_on <= launches.released_on
        and launches.released_on + targets.window_days <= {{ as_of_date() }}

),

power_development as (

    select
        'power_user_development' as playbook,
        milestones.regular_use_on as triggered_on,
        coalesce(milestones.power_use_on <= milestones.regular_use_on + targets.window_days, false) as succeeded
    from milestones
    inner join targets on targets.playbook = 'power_user_development'
    where
        milestones.regular_use_on is not null
        and milestones.regular_use_on + targets.window_days <= {{ as_of_date() }}

),

outcomes as (

    select * from activation
    union all
    select * from dormancy
    union all
    select * from launch_adoption
    union all
    select * from power_development

),

aggregated as (

    select
        playbook,
        date_trunc('month', triggered_on)::date as trigger_month,
        count(*) as triggered,
        count(*) filter (where succeeded) as succeeded
    from outcomes
    group by playbook, date_trunc('month', triggered_on)::date

),

final as (

    select
        md5(aggregated.playbook || '|' || to_char(aggregated.trigger_month, 'YYYY-MM')) as playbook_success_id,
        aggregated.playbook,
        aggregated.trigger_month,
        targets.success_metric,
        aggregated.triggered,
        aggregated.succeeded,
        round(aggregated.succeeded::numeric / nullif(aggregated.triggered, 0), 4) as success_rate,
        targets.target_rate,
        coalesce(aggregated.succeeded::numeric / nullif(aggregated.triggered, 0) >= targets.target_rate, false)
        as is_target_met
    from aggregated
    inner join targets on aggregated.playbook = targets.playbook

)

select * from final
