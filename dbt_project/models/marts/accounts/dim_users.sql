-- One row per product user: account, CRM company and contact (matched by e-mail), role,
-- champion flag, invitation, activation and activity dates.
with

users as (

    select * from {{ ref('stg_mixpanel__users') }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

contacts as (

    select * from {{ ref('int_contacts_roles_joined') }}

),

milestones as (

    select * from {{ ref('int_user_milestones_reached') }}

),

activity as (

    -- Per-user activity as int_user_milestones_reached already aggregates it (one pass over
    -- the user-days for both).
    select
        user_id,
        first_active_on,
        last_active_on,
        active_days
    from milestones

),

contacts_by_email as (

    select distinct on (email)
        email,
        contact_id,
        is_executive_sponsor,
        left_company_on
    from contacts
    where email is not null
    order by email asc, contact_id asc

),

final as (

    select
        users.user_id,
        users.user_name,
        users.email,
        users.account_id,
        resolved.company_id,
        contacts_by_email.contact_id,
        users.user_role,
        users.is_champion,
        coalesce(contacts_by_email.is_executive_sponsor, false) as is_executive_sponsor,
        users.invited_on as invited_date,
        users.activated_on as activated_date,
        activity.first_active_on as first_active_date,
        activity.last_active_on as last_active_date,
        coalesce(activity.active_days, 0) as active_days,
        contacts_by_email.left_company_on as left_company_date
    from users
    left join resolved on users.account_id = resolved.product_account_id
    left join contacts_by_email on users.email = contacts_by_email.email
    left join activity on users.user_id = activity.user_id

)

select * from final
