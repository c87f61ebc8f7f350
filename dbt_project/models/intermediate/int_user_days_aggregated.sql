{{
    config(
        materialized='incremental',
        unique_key='user_day_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
-- Product activity per user and UTC day. Incremental: a run reads only the events from the
-- newest day already aggregated minus `late_arrival_days` onwards, and replaces those days,
-- so late events are picked up and history is never rescanned.
with

events as (

    select * from {{ ref('stg_mixpanel__events') }}
    where
        cursor_at >= '{{ var("events_start_date") }}'::date
        {% if is_incremental() %}
            and cursor_at >= (
                select
                    coalesce(max(already_aggregated.activity_date), '{{ var("events_start_date") }}'::date)
                    - {{ var('late_arrival_days') }}
                from {{ this }} as already_aggregated
            )
        {% endif %}

),

aggregated as (

    select
        user_id,
        (occurred_at at time zone 'UTC')::date as activity_date,
        max(account_id) as account_id,
        max(user_role) as user_role,
        count(*) as event_count,
        count(*) filter (where feature_key is null) as login_count,
        count(*) filter (where feature_key is not null) as feature_event_count,
        coalesce(
            array_agg(
                distinct feature_key
                order by feature_key
            ) filter (where feature_key is not null
            ),
            '{}'::text []
        ) as features_used

    from events
    group by 1, 2

),

final as (

    select
        md5(user_id || '|' || activity_date::text) as user_day_id,
        *
    from aggregated

)

select * from final
