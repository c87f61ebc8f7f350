-- MRR per subscription and calendar month, from the service periods invoiced. An invoice
-- line's amount is spread evenly over the months its period covers; a period belongs to the
-- month it starts in (an annual period started on 8 May covers May to April). A live
-- subscription whose next invoice is not out yet carries its current MRR (items: quantity x
-- unit amount per month) forward to the month of as_of_date.
with

lines as (

    select * from {{ ref('stg_stripe__invoice_lines') }}
    where subscription_id is not null and not is_proration

),

invoices as (

    select * from {{ ref('stg_stripe__invoices') }}
    where invoice_status not in ('draft', 'void')

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

billed_periods as (

    select
        lines.subscription_id,
        lines.customer_id,
        lines.quantity,
        lines.amount_cents / 100.0 as amount_usd,
        date_trunc('month', lines.period_start_at at time zone 'UTC')::date as first_month,
        greatest(
            date_trunc('month', lines.period_start_at at time zone 'UTC')::date,
            (date_trunc('month', lines.period_end_at at time zone 'UTC') - interval '1 month')::date
        ) as last_month

    from lines
    inner join invoices on lines.invoice_id = invoices.invoice_id

),

spread as (

    select
        billed_periods.subscription_id,
        billed_periods.customer_id,
        month_start::date as month_start,
        billed_periods.quantity,
        billed_periods.amount_usd
        / ((
            extract(year from age(billed_periods.last_month, billed_periods.first_month)) * 12
            + extract(month from age(billed_periods.last_month, billed_periods.first_month))
        ) + 1) as mrr_usd

    from billed_periods
    cross join
        lateral generate_series(billed_periods.first_month, billed_periods.last_month, interval '1 month')
        as month_start

),

invoiced as (

    select
        subscription_id,
        max(customer_id) as customer_id,
        month_start,
        max(quantity) as seats,
        sum(mrr_usd) as mrr_usd
    from spread
    group by subscription_id, month_start

),

last_invoiced as (

    select
        subscription_id,
        max(month_start) as last_month
    from invoiced
    group by subscription_id

),

live_subscriptions as (

    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        sum(items.quantity) as seats,
        sum({{ subscription_item_mrr_usd('items') }}) as mrr_usd
    from subscriptions
    inner join items on subscriptions.subscription_id = items.subscription_id
    where subscriptions.subscription_status in ('active', 'past_due', 'trialing', 'unpaid')
    group by subscriptions.subscription_id, subscriptions.customer_id

),

carried_forward as (

    select
        live_subscriptions.subscription_id,
        live_subscriptions.customer_id,
        month_start::date as month_start,
        live_subscriptions.seats,
        live_subscriptions.mrr_usd
    from live_subscriptions
    inner join last_invoiced on live_subscriptions.subscription_id = last_invoiced.subscription_id
    cross join lateral generate_series(
        (last_invoiced.last_month + interval '1 month')::date,
        date_trunc('month', {{ as_of_date() }})::date,
        interval '1 month'
    ) as month_start

),

final as (

    select
        md5(subscription_id || '|' || month_start::text) as subscription_month_id,
        subscription_id,
        customer_id,
        month_start,
        seats,
        round(mrr_usd, 2) as mrr_usd
    from invoiced
    union all
    select
        md5(subscription_id || '|' || month_start::text) as subscription_month_id,
        subscription_id,
        customer_id,
        month_start,
        seats,
        round(mrr_usd, 2) as mrr_usd
    from carried_forward

)

select * from final
