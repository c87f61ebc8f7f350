with

source as (

    select * from {{ source('hubspot', 'tickets') }}
    where not _deleted and not coalesce((record ->> 'archived')::boolean, false)

),

renamed as (

    select
        _pk as ticket_id,
        {{ hs_prop('subject') }} as subject,
        {{ hs_prop('hs_pipeline') }} as pipeline,
        {{ hs_prop('hs_pipeline_stage') }} as pipeline_stage,
        -- HubSpot's default support pipeline: 1 new, 2 waiting on contact, 3 waiting on us, 4 closed.
        case {{ hs_prop('hs_pipeline_stage') }}
            when '1' then 'new'
            when '2' then 'waiting_on_contact'
            when '3' then 'waiting_on_us'
            when '4' then 'closed'
            else 'other'
        end as ticket_status,
        lower({{ hs_prop('hs_ticket_priority') }}) as priority,
        lower({{ hs_prop('hs_ticket_category') }}) as category,
        {{ hs_prop('hubspot_owner_id') }} as owner_id,
        coalesce(
            {{ hs_prop('createdate', 'timestamptz') }}, (record ->> 'createdAt')::timestamptz
        ) as created_at,
        {{ hs_prop('closed_date', 'timestamptz') }} as closed_at,
        coalesce(
            {{ hs_prop('hs_lastmodifieddate', 'timestamptz') }}, (record ->> 'updatedAt')::timestamptz
        ) as updated_at

    from source

)

select * from renamed
