-- Records of one system that identity resolution could not tie to a CRM company, or CRM
-- companies missing a link: reported here, never silently dropped.
with

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

customers as (

    select * from {{ ref('stg_stripe__customers') }}

),

product_users as (

    select * from {{ ref('stg_mixpanel__users') }}

),

product_accounts as (

    select distinct account_id from product_users

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

unmatched_customers as (

    select
        'stripe' as source_system,
        'customer' as record_type,
        customers.customer_id as record_id,
        'no CRM company references this customer' as reason
    from customers
    left join resolved on customers.customer_id = resolved.stripe_customer_id
    where resolved.company_id is null

),

unmatched_product_accounts as (

    select
        'mixpanel' as source_system,
        'account' as record_type,
        product_accounts.account_id as record_id,
        'no CRM company carries this product account id' as reason
    from product_accounts
    left join resolved on product_accounts.account_id = resolved.product_account_id
    where resolved.company_id is null

),

companies_without_customer as (

    select
        'hubspot' as source_system,
        'company' as record_type,
        resolved.company_id as record_id,
        'customer company without a Stripe customer' as reason
    from resolved
    inner join companies on resolved.company_id = companies.company_id
    where resolved.stripe_customer_id is null and companies.customer_status in ('active', 'churned')

),

companies_without_product_account as (

    select
        'hubspot' as source_system,
        'company' as record_type,
        resolved.company_id as record_id,
        'customer company without a product account' as reason
    from resolved
    inner join companies on resolved.company_id = companies.company_id
    where resolved.product_account_id is null and companies.customer_status in ('active', 'churned')

),

unioned as (

    select * from unmatched_customers
    union all
    select * from unmatched_product_accounts
    union all
    select * from companies_without_customer
    union all
    select * from companies_without_product_account

),

final as (

    select
        md5(source_system || ':' || record_type || ':' || record_id || ':' || reason) as unmatched_id,
        source_system,
        record_type,
        record_id,
        reason
    from unioned

)

select * from final
