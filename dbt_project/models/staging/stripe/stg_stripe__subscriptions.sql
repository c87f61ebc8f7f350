with

source as (

    select * from {{ source('stripe', 'subscriptions') }}
    where not _deleted

),

item_periods as (

    select
        source._pk as subscription_id,
        min(to_timestamp((item_json.value ->> 'current_period_start')::double precision)) as period_start_at,
        max(to_timestamp((item_json.value ->> 'current_period_end')::double precision)) as period_end_at

    from source
    cross join lateral jsonb_array_elements(source.record -> 'items' -> 'data') as item_json (value)
    group by source._pk

),

renamed as (

    select
        source._pk as subscription_id,
        source.record ->> 'customer' as customer_id,
        source.record ->> 'status' as subscription_status,
        source.record ->> 'collection_method' as collection_method,
        source.record ->> 'currency' as currency,
        source.record ->> 'latest_invoice' as latest_invoice_id,
        nullif(source.record -> 'metadata' ->> 'hubspot_company_id', '') as hubspot_company_id,
        nullif(source.record -> 'metadata' ->> 'contract_term_months', '')::integer as contract_term_months,
        coalesce((source.record ->> 'cancel_at_period_end')::boolean, false) as is_cancel_at_period_end,
        {{ epoch_to_ts("source.record ->> 'created'") }} as created_at,
        {{ epoch_to_ts("source.record ->> 'start_date'") }} as started_at,
        {{ epoch_to_ts("source.record ->> 'cancel_at'") }} as cancel_at,
        {{ epoch_to_ts("source.record ->> 'canceled_at'") }} as canceled_at,
        {{ epoch_to_ts("source.record ->> 'ended_at'") }} as ended_at,
        -- Before API version 2025-03-31.basil the current period sat on the subscription;
        -- since then it sits on each item. Take the subscription-level value when present,
        -- else the span of the items.
        coalesce(
            {{ epoch_to_ts("source.record ->> 'current_period_start'") }}, item_periods.period_start_at
        ) as current_period_start_at,
        coalesce(
            {{ epoch_to_ts("source.record ->> 'current_period_end'") }}, item_periods.period_end_at
        ) as current_period_end_at,
        source._loaded_at as loaded_at

    from source
    left join item_periods on source._pk = item_periods.subscription_id

)

select * from renamed
