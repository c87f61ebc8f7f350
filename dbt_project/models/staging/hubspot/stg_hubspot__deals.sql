with

source as (

    select * from {{ source('hubspot', 'deals') }}
    where not _deleted and not coalesce((record ->> 'archived')::boolean, false)

),

renamed as (

    select
        _pk as deal_id,
        {{ hs_prop('dealname') }} as deal_name,
        {{ hs_prop('amount', 'numeric') }} as amount_usd,
        {{ hs_prop('pipeline') }} as pipeline,
        {{ hs_prop('dealstage') }} as deal_stage,
        {{ hs_prop('dealtype') }} as deal_type,
        coalesce(
            {{ hs_prop('postsale_deal_kind') }},
            case {{ hs_prop('dealtype') }} when 'newbusiness' then 'new_business' end
        ) as deal_kind,
        {{ hs_prop('seats', 'numeric') }}::integer as seats_after_close,
        {{ hs_prop('hubspot_owner_id') }} as owner_id,
        {{ hs_prop('closedate', 'timestamptz') }} as close_at,
        coalesce(
            {{ hs_prop('createdate', 'timestamptz') }}, (record ->> 'createdAt')::timestamptz
        ) as created_at,
        coalesce(
            {{ hs_prop('hs_lastmodifieddate', 'timestamptz') }}, (record ->> 'updatedAt')::timestamptz
        ) as updated_at

    from source

)

select * from renamed
