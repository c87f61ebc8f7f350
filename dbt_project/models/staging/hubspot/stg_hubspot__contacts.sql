with

source as (

    select * from {{ source('hubspot', 'contacts') }}
    where not _deleted and not coalesce((record ->> 'archived')::boolean, false)

),

renamed as (

    select
        _pk as contact_id,
        lower({{ hs_prop('email') }}) as email,
        {{ hs_prop('firstname') }} as first_name,
        {{ hs_prop('lastname') }} as last_name,
        {{ hs_prop('jobtitle') }} as job_title,
        {{ hs_prop('associatedcompanyid', 'numeric') }}::bigint::text as primary_company_id,
        {{ hs_prop('postsale_role') }} as contact_role,
        coalesce({{ hs_prop('is_champion', 'boolean') }}, false) as is_champion,
        coalesce({{ hs_prop('is_executive_sponsor', 'boolean') }}, false) as is_executive_sponsor,
        {{ hs_prop('left_company_date', 'date') }} as left_company_on,
        {{ hs_prop('hubspot_owner_id') }} as owner_id,
        coalesce(
            {{ hs_prop('createdate', 'timestamptz') }}, (record ->> 'createdAt')::timestamptz
        ) as created_at,
        coalesce(
            {{ hs_prop('lastmodifieddate', 'timestamptz') }}, (record ->> 'updatedAt')::timestamptz
        ) as updated_at

    from source

)

select * from renamed
