-- Seats per CRM account and month: the subscription months' seats summed over the account's
-- Stripe customer. Usage (seat utilisation) and the journey triggers (mid-term seat cuts) read it.
with

subscription_months as (

    select * from {{ ref('int_subscriptions_mrr_monthly') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

final as (

    select
        md5(accounts.company_id || '|' || subscription_months.month_start::text) as account_month_id,
        accounts.company_id,
        subscription_months.month_start,
        sum(subscription_months.seats) as seats
    from subscription_months
    inner join accounts on subscription_months.customer_id = accounts.stripe_customer_id
    group by accounts.company_id, subscription_months.month_start

)

select * from final
