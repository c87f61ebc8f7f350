with

source as (

    select * from {{ source('mixpanel', 'events') }}
    where not _deleted

),

renamed as (

    select
        _pk as event_id,
        record ->> 'event' as event_name,
        lower(record -> 'properties' ->> 'distinct_id') as user_id,
        record -> 'properties' ->> 'account_id' as account_id,
        nullif(record -> 'properties' ->> 'feature', '') as feature_key,
        record -> 'properties' ->> 'role' as user_role,
        coalesce({{ epoch_to_ts("record -> 'properties' ->> 'time'") }}, _cursor) as occurred_at,
        -- The connector's cursor (the event time): lets incremental models filter without parsing JSON.
        _cursor as cursor_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
