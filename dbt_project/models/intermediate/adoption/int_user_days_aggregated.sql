{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['activity_date']}],
        on_schema_change='append_new_columns'
    )
}}
-- Product activity per user and UTC day. Incremental: a run reads only the events from the
-- newest day already aggregated minus `late_arrival_days` onwards, and replaces those days,
-- so late events are picked up and history is never rescanned. The rebuilt days are replaced
-- whole (delete+insert on the indexed `activity_date`), so only whole days are written.
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

final as (

    select
        md5(user_id || '|' || activity_date::text) as user_day_id,
        *
    from whole_days

)

select * from final
