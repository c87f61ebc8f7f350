-- One row per CRM company: the account dimension with its identities across CRM, billing
-- and product, segment, owner, contract and current subscription.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

final as (

    select
        accounts.company_id,
        accounts.company_name,
        companies.company_domain,
        companies.industry,
        accounts.stripe_customer_id,
        resolved.stripe_match_method,
        accounts.product_account_id,
        resolved.product_match_method,
        accounts.segment,
        accounts.segment_source,
        accounts.is_self_serve,
        accounts.owner_id,
        nullif(concat_ws(' ', owners.first_name, owners.last_name), '') as owner_name,
        accounts.customer_status,
        accounts.started_on as started_date,
        accounts.churned_on as churned_date,
        accounts.contract_start_date,
        accounts.contract_end_date,
        accounts.contract_term_months,
        accounts.onboarding_status,
        accounts.first_graduated_on as first_graduated_date,
        accounts.seats,
        accounts.plan_tier,
        accounts.seat_limit,
        accounts.mrr_usd,
        accounts.arr_usd
    from accounts
    inner join companies on accounts.company_id = companies.company_id
    left join owners on accounts.owner_id = owners.owner_id
    left join resolved on accounts.company_id = resolved.company_id

)

select * from final
