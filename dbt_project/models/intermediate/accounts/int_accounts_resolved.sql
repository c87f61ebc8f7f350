-- Identity resolution: one row per CRM company, with its Stripe customer and product account.
-- Every link is taken from the strongest evidence available, in this order:
--   customer: customer.metadata.hubspot_company_id > company.stripe_customer_id
--             > subscription.metadata.hubspot_company_id > shared product account id;
--   product account: company.postsale_account_id > customer.metadata.product_account_id.
with

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

customer_candidates as (

    select
        companies.company_id,
        customers.customer_id,
        1 as match_priority,
        'customer_metadata' as match_method
    from companies
    inner join customers on companies.company_id = customers.hubspot_company_id

    union all

    select
        companies.company_id,
        companies.stripe_customer_id as customer_id,
        2 as match_priority,
        'crm_property' as match_method
    from companies
    where companies.stripe_customer_id is not null

    union all

    select distinct
        companies.company_id,
        subscriptions.customer_id,
        3 as match_priority,
        'subscription_metadata' as match_method
    from companies
    inner join subscriptions on companies.company_id = subscriptions.hubspot_company_id

    union all

    select
        companies.company_id,
        customers.customer_id,
        4 as match_priority,
        'product_account_id' as match_method
    from companies
    inner join customers on companies.product_account_id = customers.product_account_id

),

best_customer as (

    select distinct on (company_id)
        company_id,
        customer_id,
        match_method
    from customer_candidates
    order by company_id, match_priority, customer_id

),

final as (

    select
        companies.company_id,
        best_customer.customer_id as stripe_customer_id,
        best_customer.match_method as stripe_match_method,
        coalesce(companies.product_account_id, customers.product_account_id) as product_account_id,
        case
            when companies.product_account_id is not null then 'crm_property'
            when customers.product_account_id is not null then 'customer_metadata'
        end as product_match_method,
        customers.customer_id is null and best_customer.customer_id is not null as is_stripe_customer_deleted

    from companies
    left join best_customer on companies.company_id = best_customer.company_id
    left join customers on best_customer.customer_id = customers.customer_id

)

select * from final
