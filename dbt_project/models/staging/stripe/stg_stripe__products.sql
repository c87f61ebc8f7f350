with

source as (

    select * from {{ source('stripe', 'products') }}
    where not _deleted

),

renamed as (

    select
        _pk as product_id,
        record ->> 'name' as product_name,
        nullif(record -> 'metadata' ->> 'tier', '') as plan_tier,
        nullif(record -> 'metadata' ->> 'seat_limit', '')::integer as seat_limit,
        coalesce((record ->> 'active')::boolean, true) as is_active,
        {{ epoch_to_ts("record ->> 'created'") }} as created_at

    from source

)

select * from renamed
