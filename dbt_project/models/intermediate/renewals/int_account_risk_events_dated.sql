{{ config(indexes=[{"columns": ["company_id", "event_date"]}]) }}
-- The dated facts renewal risk reads besides usage, one row per account, day and event: tickets
-- opened (and whether high severity), failed payments, NPS answers, key contacts leaving, product users invited, and
-- the account's MRR and seats per month (dated the first of the month). Every row carries the
-- day it became known, so int_renewal_features_derived can read any past day point-in-time;
-- properties that only hold the CRM's current value (risk flag, deal stage) are not here.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

crm_tickets as (

    select * from {{ ref('stg_hubspot__tickets') }}

),

ticket_companies as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'companies' and to_object_type = 'tickets'

),

stripe_invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

payment_failures as (

    select * from {{ ref('stg_stripe__events') }}
    where event_type = 'invoice.payment_failed'

),

nps as (

    select * from {{ ref('int_nps_responses_joined') }}
    where company_id is not null

),

key_contact_changes as (

    select * from {{ ref('int_champion_changes_detected') }}

),

seats_monthly as (

    select * from {{ ref('int_account_seats_monthly') }}

),

mrr_monthly as (

    select * from {{ ref('int_subscriptions_mrr_monthly') }}

),

product_users as (

    select * from {{ ref('stg_mixpanel__users') }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}
    where product_account_id is not null

),

tickets as (

    select
        ticket_companies.from_object_id as company_id,
        (crm_tickets.created_at at time zone 'UTC')::date as event_date,
        case when crm_tickets.priority in ('high', 'urgent') then 'high_severity_ticket' else 'ticket' end
        as event_type,
        1::numeric as event_value
    from crm_tickets
    inner join ticket_companies on crm_tickets.ticket_id = ticket_companies.to_object_id

),

failed_payments as (

    -- A failed charge: a payment_failed event, or an invoice charged more than once. An open
    -- invoice is only unpaid so far.
    select
        accounts.company_id,
        coalesce(
            min((payment_failures.created_at at time zone 'UTC')::date),
            min((stripe_invoices.created_at at time zone 'UTC')::date)
        ) as event_date,
        'payment_failed' as event_type,
        1::numeric as event_value
    from stripe_invoices
    inner join accounts on stripe_invoices.customer_id = accounts.stripe_customer_id
    left join payment_failures on stripe_invoices.invoice_id = payment_failures.object_id
    where payment_failures.object_id is not null or stripe_invoices.attempt_count > 1
    group by accounts.company_id, stripe_invoices.invoice_id

),

nps_answers as (

    select
        company_id,
        submitted_on as event_date,
        'nps_answer' as event_type,
        nps_score::numeric as event_value
    from nps

),

key_contacts_left as (

    select
        company_id,
        left_company_on as event_date,
        key_role || '_left' as event_type,
        1::numeric as event_value
    from key_contact_changes

),

seats as (

    select
        company_id,
        month_start as event_date,
        'seats' as event_type,
        seats::numeric as event_value
    from seats_monthly

),

mrr as (

    select
        accounts.company_id,
        mrr_monthly.month_start as event_date,
        'mrr_usd' as event_type,
        sum(mrr_monthly.mrr_usd)::numeric as event_value
    from mrr_monthly
    inner join accounts on mrr_monthly.customer_id = accounts.stripe_customer_id
    group by accounts.company_id, mrr_monthly.month_start

),

users_invited as (

    select
        resolved.company_id,
        product_users.invited_on as event_date,
        'user_invited' as event_type,
        1::numeric as event_value
    from product_users
    inner join resolved on product_users.account_id = resolved.product_account_id

),

unioned as (

    select * from tickets
    union all
    select * from failed_payments
    union all
    select * from nps_answers
    union all
    select * from key_contacts_left
    union all
    select * from seats
    union all
    select * from mrr
    union all
    select * from users_invited

),

final as (

    select
        company_id,
        event_date,
        event_type,
        event_value
    from unioned
    where company_id is not null and event_date is not null

)

select * from final
