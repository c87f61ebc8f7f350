with

source as (

    select * from {{ source('hubspot', 'feedback_submissions') }}
    where not _deleted and not coalesce((record ->> 'archived')::boolean, false)

),

renamed as (

    select
        _pk as feedback_submission_id,
        lower({{ hs_prop('hs_survey_type') }}) as survey_type,
        {{ hs_prop('hs_survey_name') }} as survey_name,
        lower({{ hs_prop('hs_survey_channel') }}) as survey_channel,
        {{ hs_prop('hs_response_value', 'numeric') }} as response_value,
        lower({{ hs_prop('hs_sentiment') }}) as sentiment,
        lower({{ hs_prop('hs_contact_email_rollup') }}) as contact_email,
        coalesce(
            {{ hs_prop('hs_createdate', 'timestamptz') }}, (record ->> 'createdAt')::timestamptz
        ) as submitted_at

    from source

)

select * from renamed
