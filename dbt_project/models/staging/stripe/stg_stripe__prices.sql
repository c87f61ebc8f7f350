with

source as (

    select * from {{ source('stripe', 'prices') }}
    where not _deleted

),

renamed as (

    select
        _pk as price_id,
        record ->> 'product' as product_id,
        (record ->> 'unit_amount')::bigint as unit_amount_cents,
        record ->> 'currency' as currency,
        record -> 'recurring' ->> 'interval' as billing_interval,
        coalesce((record -> 'recurring' ->> 'interval_count')::integer, 1) as billing_interval_count,
        record ->> 'lookup_key' as lookup_key,
        nullif(record -> 'metadata' ->> 'tier', '') as plan_tier,
        nullif(record -> 'metadata' ->> 'seat_limit', '')::integer as seat_limit,
        {{ epoch_to_ts("record ->> 'created'") }} as created_at

    from source

)

select * from renamed
