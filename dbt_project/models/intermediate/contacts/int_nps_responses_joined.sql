-- NPS answers joined to their contact and company (through the feedback association, else
-- the contact e-mail).
with

feedback as (

    select * from {{ ref('stg_hubspot__feedback_submissions') }}
    where survey_type = 'nps' and response_value is not null

),

contacts as (

    select * from {{ ref('int_contacts_roles_joined') }}

),

associations as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'feedback_submissions' and to_object_type = 'contacts'

),

feedback_contacts as (

    select distinct on (from_object_id)
        from_object_id as feedback_submission_id,
        to_object_id as contact_id
    from associations
    order by from_object_id, to_object_id

),

contacts_by_email as (

    select distinct on (email)
        email,
        contact_id
    from contacts
    where email is not null
    order by email, contact_id

),

final as (

    select
        feedback.feedback_submission_id,
        coalesce(feedback_contacts.contact_id, contacts_by_email.contact_id) as contact_id,
        contacts.company_id,
        contacts.is_executive,
        feedback.response_value as nps_score,
        feedback.sentiment,
        feedback.submitted_at,
        (feedback.submitted_at at time zone 'UTC')::date as submitted_on
    from feedback
    left join feedback_contacts on feedback.feedback_submission_id = feedback_contacts.feedback_submission_id
    left join contacts_by_email on feedback.contact_email = contacts_by_email.email
    left join contacts on coalesce(feedback_contacts.contact_id, contacts_by_email.contact_id) = contacts.contact_id

)

select * from final
