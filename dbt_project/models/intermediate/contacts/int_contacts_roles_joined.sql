-- CRM contacts with their company and role flags. The company comes from the primary
-- association property, else from a company_to_contact association.
with

contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

associations as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'companies' and to_object_type = 'contacts'

),

associated_company as (

    select distinct on (to_object_id)
        to_object_id as contact_id,
        from_object_id as company_id
    from associations
    order by to_object_id, from_object_id

),

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

final as (

    select
        contacts.contact_id,
        coalesce(contacts.primary_company_id, associated_company.company_id) as company_id,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.job_title,
        contacts.contact_role,
        contacts.is_champion or companies.champion_contact_id = contacts.contact_id as is_champion,
        coalesce(companies.champion_contact_id = contacts.contact_id, false) as is_current_champion,
        contacts.is_executive_sponsor,
        contacts.contact_role = 'executive' or contacts.is_executive_sponsor as is_executive,
        contacts.left_company_on,
        contacts.created_at::date as joined_on,
        contacts.created_at,
        contacts.updated_at

    from contacts
    left join associated_company on contacts.contact_id = associated_company.contact_id
    left join companies on coalesce(contacts.primary_company_id, associated_company.company_id) = companies.company_id

)

select * from final
