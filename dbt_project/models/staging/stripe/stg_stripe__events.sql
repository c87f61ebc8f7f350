with

source as (

    select * from {{ source('stripe', 'events') }}

),

renamed as (

    select
        _pk as event_id,
        record ->> 'type' as event_type,
        record -> 'data' -> 'object' ->> 'object' as object_type,
        record -> 'data' -> 'object' ->> 'id' as object_id,
        record ->> 'api_version' as api_version,
        record -> 'data' -> 'previous_attributes' as previous_attributes,
        {{ epoch_to_ts("record ->> 'created'") }} as created_at

    from source

)

select * from renamed
