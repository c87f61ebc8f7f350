with

source as (

    select * from {{ source('stripe', 'invoices') }}
    where not _deleted

),

renamed as (

    select
        _pk as invoice_id,
        record ->> 'customer' as customer_id,
        -- API 2025-03-31.basil moved the subscription under parent.subscription_details.
        coalesce(
            record -> 'parent' -> 'subscription_details' ->> 'subscription',
            record ->> 'subscription'
        ) as subscription_id,
        record ->> 'number' as invoice_number,
        record ->> 'status' as invoice_status,
        record ->> 'billing_reason' as billing_reason,
        record ->> 'collection_method' as collection_method,
        record ->> 'currency' as currency,
        (record ->> 'amount_due')::bigint as amount_due_cents,
        (record ->> 'amount_paid')::bigint as amount_paid_cents,
        (record ->> 'amount_remaining')::bigint as amount_remaining_cents,
        (record ->> 'total')::bigint as total_cents,
        coalesce((record ->> 'attempt_count')::integer, 0) as attempt_count,
        {{ epoch_to_ts("record ->> 'created'") }} as created_at,
        {{ epoch_to_ts("record ->> 'due_date'") }} as due_at,
        {{ epoch_to_ts("record -> 'status_transitions' ->> 'finalized_at'") }} as finalized_at,
        {{ epoch_to_ts("record -> 'status_transitions' ->> 'paid_at'") }} as paid_at,
        {{ epoch_to_ts("record -> 'status_transitions' ->> 'marked_uncollectible_at'") }} as marked_uncollectible_at,
        {{ epoch_to_ts("record ->> 'period_start'") }} as period_start_at,
        {{ epoch_to_ts("record ->> 'period_end'") }} as period_end_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
