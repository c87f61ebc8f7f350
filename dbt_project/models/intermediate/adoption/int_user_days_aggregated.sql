{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['activity_date']}, {'columns': ['user_id', 'activity_date']}],
        on_schema_change='append_new_columns'
    )
}}
-- Product activity per user and UTC day. Incremental: a run reads only the events from the
-- newest day already aggregated minus `late_arrival_days` onwards, and replaces those days,
-- so late events are picked up and history is never rescanned. The rebuilt days are replaced
-- whole (delete+insert on the indexed `activity_date`), so only whole days are written.
-- Each user-day also stores the user's active days in the 7 days to it and their previous
-- active day, so the milestone and playbook models read them with one aggregate or filter
-- instead of sorting the whole history into windows on every run.
{{- require_built_columns(['active_days_7d', 'previous_active_date']) }}
{%- set first_day = events_first_rebuilt_day('activity_date') %}
with

events as (

    -- The cursor is the event time: the index on it reads only the rebuilt days.
    select * from {{ ref('stg_mixpanel__events') }}
    where cursor_at >= {{ first_day }}::timestamp at time zone 'UTC'

),

feature_bits as (

    select * from {{ ref('int_features_numbered') }}

),

aggregated as (

    select
        events.user_id,
        (events.occurred_at at time zone 'UTC')::date as activity_date,
        max(events.account_id) as account_id,
        max(events.user_role) as user_role,
        count(*) as event_count,
        count(*) filter (where events.feature_key is null) as login_count,
        count(*) filter (where events.feature_key is not null) as feature_event_count,
        coalesce(
            array_agg(
                distinct events.feature_key
                order by events.feature_key
            ) filter (where events.feature_key is not null
            ),
            '{}'::text []
        ) as features_used,
        -- Stored once per user-day, so the daily models never unnest the feature lists again.
        coalesce(bit_or(1 << feature_bits.bit_position), 0) as feature_mask

    from events
    left join feature_bits on events.feature_key = feature_bits.feature_key
    group by 1, 2

),

whole_days as (

    -- An event timed before its cursor would start a partial day: never replace a day with it.
    select * from aggregated
    where activity_date >= {{ first_day }}

),

{% if is_incremental() %}

    earlier_active_days as (

        -- The user's active days in the 6 days before the rebuilt ones: the rebuilt days' 7-day
        -- counts reach back that far.
        select
            user_id,
            activity_date
        from {{ this }}
        where activity_date >= {{ first_day }} - 6 and activity_date < {{ first_day }}

    ),

    last_active_before as (

        -- The latest active day before those, of each user active on a rebuilt day and not in
        -- those 6 days: the previous active day of their first rebuilt one (one probe of the
        -- user's index each).
        select
            rebuilt_users.user_id,
            earlier.activity_date
        from (
            select user_id from whole_days
            except
            select user_id from earlier_active_days
        ) as rebuilt_users
        cross join
            lateral (
                -- max() with the user fixed reads one row, from the end of the user's index range
                select max(built.activity_date) as activity_date
                from {{ this }} as built
                where built.user_id = rebuilt_users.user_id and built.activity_date < {{ first_day }} - 6
            ) as earlier
        where earlier.activity_date is not null

    ),

{% endif %}

active_days as (

    select
        *,
        true as is_rebuilt
    from whole_days
    {% if is_incremental() %}
        union all
        select
            user_id,
            activity_date,
            null as account_id,
            null as user_role,
            null as event_count,
            null as login_count,
            null as feature_event_count,
            null as features_used,
            null as feature_mask,
            false as is_rebuilt
        from (
            select * from earlier_active_days
            union all
            select * from last_active_before
        ) as earlier
    {% endif %}

),

windowed as (

    select
        active_days.*,
        count(*) over (
            partition by active_days.user_id
            order by active_days.activity_date range between interval '6 days' preceding and current row
        ) as active_days_7d,
        lag(active_days.activity_date) over (
            partition by active_days.user_id
            order by active_days.activity_date
        ) as previous_active_date
    from active_days

),

final as (

    select
        md5(user_id || '|' || activity_date::text) as user_day_id,
        user_id,
        activity_date,
        account_id,
        user_role,
        event_count,
        login_count,
        feature_event_count,
        features_used,
        feature_mask,
        active_days_7d,
        previous_active_date
    from windowed
    where is_rebuilt

)

select * from final
