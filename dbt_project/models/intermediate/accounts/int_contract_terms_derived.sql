-- Contract terms per account: the current term from the CRM and the earlier terms implied
-- by the first term (Stripe subscription metadata) stepping by 12 months up to the current
-- start. One row per account and contract end date, with the renewal deal of that end.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}
    where deal_kind = 'renewal'

),

associations as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'companies' and to_object_type = 'deals'

),

deal_companies as (

    select
        from_object_id as company_id,
        to_object_id as deal_id
    from associations

),

past_ends as (

    select
        accounts.company_id,
        contract_end::date as contract_end_date
    from accounts
    cross join
        lateral generate_series(
            (accounts.started_on + make_interval(months => coalesce(accounts.first_term_months, 12)))::date,
            accounts.contract_start_date,
            interval '12 months'
        ) as contract_end
    where accounts.contract_start_date > accounts.started_on

),

all_ends as (

    select
        company_id,
        contract_end_date
    from past_ends
    union
    select
        company_id,
        contract_start_date as contract_end_date
    from accounts
    where contract_start_date > started_on
    union
    select
        company_id,
        contract_end_date
    from accounts
    where contract_end_date is not null

),

ends_with_starts as (

    select
        company_id,
        contract_end_date,
        lag(contract_end_date) over (
            partition by company_id
            order by contract_end_date
        ) as previous_end_date
    from all_ends

),

matched_deals as (

    select distinct on (ends_with_starts.company_id, ends_with_starts.contract_end_date)
        ends_with_starts.company_id,
        ends_with_starts.contract_end_date,
        deals.deal_id,
        deals.deal_stage,
        deals.created_at::date as deal_created_on,
        deals.close_at::date as deal_close_on,
        deals.amount_usd as deal_amount_usd
    from ends_with_starts
    inner join deal_companies on ends_with_starts.company_id = deal_companies.company_id
    inner join deals on deal_companies.deal_id = deals.deal_id
    where
        deals.close_at::date <= ends_with_starts.contract_end_date
        and deals.close_at::date > coalesce(ends_with_starts.previous_end_date, '1900-01-01'::date)
    order by ends_with_starts.company_id asc, ends_with_starts.contract_end_date asc, deals.close_at desc

),

final as (

    select
        md5(ends_with_starts.company_id || '|' || ends_with_starts.contract_end_date::text) as contract_term_id,
        ends_with_starts.company_id,
        coalesce(ends_with_starts.previous_end_date, accounts.started_on) as term_start_date,
        ends_with_starts.contract_end_date,
        ends_with_starts.contract_end_date = accounts.contract_end_date as is_current_term,
        matched_deals.deal_id as renewal_deal_id,
        matched_deals.deal_stage as renewal_deal_stage,
        matched_deals.deal_created_on as renewal_deal_created_on,
        matched_deals.deal_close_on as renewal_deal_close_on,
        matched_deals.deal_amount_usd as renewal_deal_amount_usd
    from ends_with_starts
    inner join accounts on ends_with_starts.company_id = accounts.company_id
    left join matched_deals
        on
            ends_with_starts.company_id = matched_deals.company_id
            and ends_with_starts.contract_end_date = matched_deals.contract_end_date

)

select * from final
