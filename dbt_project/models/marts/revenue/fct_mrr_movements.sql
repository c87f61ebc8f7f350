-- One row per billing customer and month with MRR or a movement, up to the month of
-- as_of_date: MRR at the start (previous month) and end of the month, and the movement
-- (new, expansion, contraction, churn, reactivation, or none when flat).
with

subscription_months as (

    select * from {{ ref('int_subscriptions_mrr_monthly') }}
    where month_start <= date_trunc('month', {{ as_of_date() }})::date

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

customer_months as (

    select
        customer_id,
        month_start,
        sum(mrr_usd) as mrr_usd,
        sum(seats) as seats
    from subscription_months
    group by customer_id, month_start

),

customer_spans as (

    select
        customer_id,
        min(month_start) as first_month
    from customer_months
    group by customer_id

),

spine as (

    select
        customer_spans.customer_id,
        customer_spans.first_month,
        month_start::date as month_start
    from customer_spans
    cross join lateral generate_series(
        customer_spans.first_month,
        date_trunc('month', {{ as_of_date() }})::date,
        interval '1 month'
    ) as month_start

),

filled as (

    select
        spine.customer_id,
        spine.first_month,
        spine.month_start,
        coalesce(customer_months.mrr_usd, 0) as mrr_usd,
        coalesce(customer_months.seats, 0) as seats
    from spine
    left join customer_months
        on spine.customer_id = customer_months.customer_id and spine.month_start = customer_months.month_start

),

compared as (

    select
        filled.*,
        coalesce(lag(filled.mrr_usd) over by_month, 0) as previous_mrr_usd
    from filled
    window by_month as (
        partition by filled.customer_id
        order by filled.month_start
    )

),

final as (

    select
        md5(compared.customer_id || '|' || compared.month_start::text) as customer_month_id,
        compared.customer_id,
        accounts.company_id,
        coalesce(accounts.segment, 'unknown') as segment,
        extract(year from compared.first_month)::integer as cohort_year,
        compared.month_start as calendar_month,
        compared.previous_mrr_usd,
        compared.mrr_usd,
        compared.seats,
        case
            when compared.previous_mrr_usd = 0 and compared.mrr_usd > 0 and compared.month_start = compared.first_month
                then 'new'
            when compared.previous_mrr_usd = 0 and compared.mrr_usd > 0 then 'reactivation'
            when compared.previous_mrr_usd > 0 and compared.mrr_usd = 0 then 'churn'
            when compared.mrr_usd > compared.previous_mrr_usd then 'expansion'
            when compared.mrr_usd < compared.previous_mrr_usd then 'contraction'
            else 'none'
        end as movement_type,
        compared.mrr_usd - compared.previous_mrr_usd as mrr_change_usd
    from compared
    left join accounts on compared.customer_id = accounts.stripe_customer_id
    where compared.mrr_usd > 0 or compared.previous_mrr_usd > 0

)

select * from final
