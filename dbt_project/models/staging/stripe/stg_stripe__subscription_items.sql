with

source as (

    select * from {{ source('stripe', 'subscriptions') }}
    where not _deleted

),

items as (

    select
        source._pk as subscription_id,
        source.record as subscription_data,
        item_json.value as item_data

    from source
    cross join lateral jsonb_array_elements(source.record -> 'items' -> 'data') as item_json (value)

),

renamed as (

    select
        item_data ->> 'id' as subscription_item_id,
        subscription_id,
        subscription_data ->> 'customer' as customer_id,
        coalesce(item_data -> 'price' ->> 'id', item_data -> 'plan' ->> 'id') as price_id,
        coalesce(item_data -> 'price' ->> 'product', item_data -> 'plan' ->> 'product') as product_id,
        coalesce((item_data ->> 'quantity')::integer, 1) as quantity,
        coalesce(
            (item_data -> 'price' ->> 'unit_amount')::bigint, (item_data -> 'plan' ->> 'amount')::bigint
        ) as unit_amount_cents,
        coalesce(
            item_data -> 'price' -> 'recurring' ->> 'interval', item_data -> 'plan' ->> 'interval'
        ) as billing_interval,
        coalesce(
            (item_data -> 'price' -> 'recurring' ->> 'interval_count')::integer,
            (item_data -> 'plan' ->> 'interval_count')::integer,
            1
        ) as billing_interval_count,
        nullif(item_data -> 'price' -> 'metadata' ->> 'tier', '') as plan_tier,
        nullif(item_data -> 'price' -> 'metadata' ->> 'seat_limit', '')::integer as seat_limit,
        {{ epoch_to_ts("item_data ->> 'created'") }} as created_at,
        -- Item-level period (API 2025-03-31.basil), falling back to the older subscription level.
        coalesce(
            {{ epoch_to_ts("item_data ->> 'current_period_start'") }},
            {{ epoch_to_ts("subscription_data ->> 'current_period_start'") }}
        ) as current_period_start_at,
        coalesce(
            {{ epoch_to_ts("item_data ->> 'current_period_end'") }},
            {{ epoch_to_ts("subscription_data ->> 'current_period_end'") }}
        ) as current_period_end_at

    from items

)

select * from renamed
