with

source as (

    select * from {{ source('stripe', 'invoices') }}
    where not _deleted

),

lines as (

    select
        source._pk as invoice_id,
        source.record as invoice_data,
        line_json.value as line_data

    from source
    cross join lateral jsonb_array_elements(source.record -> 'lines' -> 'data') as line_json (value)

),

renamed as (

    select
        line_data ->> 'id' as invoice_line_id,
        invoice_id,
        invoice_data ->> 'customer' as customer_id,
        coalesce(
            line_data -> 'parent' -> 'subscription_item_details' ->> 'subscription',
            line_data ->> 'subscription',
            invoice_data -> 'parent' -> 'subscription_details' ->> 'subscription',
            invoice_data ->> 'subscription'
        ) as subscription_id,
        coalesce(
            line_data -> 'parent' -> 'subscription_item_details' ->> 'subscription_item',
            line_data ->> 'subscription_item'
        ) as subscription_item_id,
        (line_data ->> 'amount')::bigint as amount_cents,
        coalesce((line_data ->> 'quantity')::integer, 1) as quantity,
        line_data ->> 'currency' as currency,
        -- Raw lines keep the shape of the API version their event was created with: `proration`
        -- sits under `parent` since 2025-03-31.basil, at the top level of the line before.
        coalesce(
            (line_data -> 'parent' -> 'subscription_item_details' ->> 'proration')::boolean,
            (line_data -> 'parent' -> 'invoice_item_details' ->> 'proration')::boolean,
            (line_data ->> 'proration')::boolean,
            false
        ) as is_proration,
        {{ epoch_to_ts("line_data -> 'period' ->> 'start'") }} as period_start_at,
        {{ epoch_to_ts("line_data -> 'period' ->> 'end'") }} as period_end_at

    from lines

)

select * from renamed
