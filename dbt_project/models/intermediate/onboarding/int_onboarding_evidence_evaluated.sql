-- Onboarding red-flag evidence per account as of as_of_date: usage (active-seat ratio,
-- week-over-week change, core workflows), open technical issues and a champion or sponsor
-- who left since kickoff.
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day in ({{ as_of_date() }}, {{ as_of_date() }} - 7)

),

open_issues as (

    -- High-priority product issues open on as_of_date.
    select * from {{ ref('stg_hubspot__tickets') }}
    where
        category = 'product_issue'
        and priority in ('high', 'urgent')
        and created_at::date <= {{ as_of_date() }}
        and coalesce(closed_at::date > {{ as_of_date() }}, true)

),

ticket_companies as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'companies' and to_object_type = 'tickets'

),

key_contact_changes as (

    select * from {{ ref('int_champion_changes_detected') }}

),

tickets as (

    select
        ticket_companies.from_object_id as company_id,
        count(*) as open_technical_issues
    from open_issues
    inner join ticket_companies on open_issues.ticket_id = ticket_companies.to_object_id
    group by ticket_companies.from_object_id

),

departures as (

    select
        key_contact_changes.company_id,
        count(*) as key_contacts_left
    from key_contact_changes
    inner join accounts on key_contact_changes.company_id = accounts.company_id
    where key_contact_changes.left_company_on between accounts.started_on and {{ as_of_date() }}
    group by key_contact_changes.company_id

),

final as (

    select
        accounts.company_id,
        today.active_seat_ratio,
        today.weekly_active_users,
        week_before.weekly_active_users as weekly_active_users_week_before,
        today.features_used_30d,
        coalesce(tickets.open_technical_issues, 0) as open_technical_issues,
        coalesce(departures.key_contacts_left, 0) as key_contacts_left
    from accounts
    left join usage as today on accounts.company_id = today.company_id and today.date_day = {{ as_of_date() }}
    left join usage as week_before
        on accounts.company_id = week_before.company_id and week_before.date_day = {{ as_of_date() }} - 7
    left join tickets on accounts.company_id = tickets.company_id
    left join departures on accounts.company_id = departures.company_id

)

select * from final
