-- One row per CRM company: identity, segment (CRM property, else the [default] fallback from
-- ARR and acquisition channel), lifecycle dates (start, first graduation, churn) and the
-- current subscription (seats, plan tier and its seat limit, MRR).
with

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

items as (

    select * from {{ ref('stg_stripe__subscription_items') }}

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

customer_subscriptions as (

    select
        customer_id,
        min(started_at)::date as started_on,
        max(ended_at)::date as ended_on,
        bool_or(subscription_status in ('active', 'past_due', 'trialing', 'unpaid')) as has_live_subscription,
        bool_or(subscription_status = 'past_due') as is_past_due,
        max(contract_term_months) as first_term_months
    from subscriptions
    group by customer_id

),

current_items as (

    select
        items.customer_id,
        sum(items.quantity) as seats,
        max(items.plan_tier) as plan_tier,
        max(items.seat_limit) as seat_limit,
        sum({{ subscription_item_mrr_usd('items') }}) as mrr_usd
    from items
    inner join subscriptions on items.subscription_id = subscriptions.subscription_id
    where subscriptions.subscription_status in ('active', 'past_due', 'trialing', 'unpaid')
    group by items.customer_id

),

joined as (

    select
        companies.company_id,
        companies.company_name,
        companies.owner_id,
        resolved.stripe_customer_id,
        resolved.product_account_id,
        companies.crm_segment,
        companies.acquisition_channel = 'self_serve' as is_self_serve,
        companies.customer_status,
        least(
            customer_subscriptions.started_on,
            companies.onboarding_kickoff_date,
            companies.contract_start_date
        ) as started_on,
        coalesce(customer_subscriptions.first_term_months, companies.contract_term_months) as first_term_months,
        companies.contract_start_date,
        companies.contract_end_date,
        companies.contract_term_months,
        case
            when companies.customer_status = 'churned'
                then coalesce(customer_subscriptions.ended_on, companies.contract_end_date)
            when customer_subscriptions.ended_on is not null and not customer_subscriptions.has_live_subscription
                then customer_subscriptions.ended_on
        end as churned_on,
        companies.onboarding_status,
        companies.onboarding_target_date,
        companies.onboarding_graduation_date,
        companies.merger_date,
        -- A merger reopens onboarding and the CRM overwrites the graduation date; the first
        -- graduation then falls back to the first-value milestone, the closest date kept.
        case
            when
                companies.merger_date is not null
                and coalesce(companies.onboarding_graduation_date >= companies.merger_date, true)
                then companies.onboarding_first_value_date
            else companies.onboarding_graduation_date
        end as first_graduated_on,
        coalesce(current_items.seats, 0) as seats,
        current_items.plan_tier,
        current_items.seat_limit,
        coalesce(current_items.mrr_usd, 0) as mrr_usd,
        coalesce(customer_subscriptions.is_past_due, false) as is_past_due,
        companies.csm_risk_flag,
        companies.has_open_competitor_evaluation,
        companies.champion_contact_id

    from companies
    left join resolved on companies.company_id = resolved.company_id
    left join customer_subscriptions on resolved.stripe_customer_id = customer_subscriptions.customer_id
    left join current_items on resolved.stripe_customer_id = current_items.customer_id

),

segment_fallback as (

    select
        joined.company_id,
        (
            select segment_targets.segment
            from segment_targets
            where segment_targets.segment != 'product_led' and segment_targets.min_arr_usd <= joined.mrr_usd * 12
            order by segment_targets.min_arr_usd desc
            limit 1
        ) as arr_segment
    from joined

),

final as (

    select
        joined.company_id,
        joined.company_name,
        joined.owner_id,
        joined.stripe_customer_id,
        joined.product_account_id,
        coalesce(
            joined.crm_segment,
            case when joined.is_self_serve then 'product_led' end,
            segment_fallback.arr_segment
        ) as segment,
        case
            when joined.crm_segment is not null then 'crm'
            when joined.is_self_serve then 'self_serve'
            else 'arr'
        end as segment_source,
        joined.is_self_serve,
        joined.customer_status,
        joined.started_on,
        joined.first_term_months,
        joined.contract_start_date,
        joined.contract_end_date,
        joined.contract_term_months,
        joined.churned_on,
        joined.onboarding_status,
        joined.onboarding_target_date,
        joined.onboarding_graduation_date,
        joined.first_graduated_on,
        joined.merger_date,
        joined.seats,
        joined.plan_tier,
        joined.seat_limit,
        round(joined.mrr_usd, 2) as mrr_usd,
        round(joined.mrr_usd * 12, 2) as arr_usd,
        joined.is_past_due,
        joined.csm_risk_flag,
        joined.has_open_competitor_evaluation,
        joined.champion_contact_id

    from joined
    left join segment_fallback on joined.company_id = segment_fallback.company_id

)

select * from final
