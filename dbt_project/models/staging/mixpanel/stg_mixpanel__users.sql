with

source as (

    select * from {{ source('mixpanel', 'profiles') }}
    where not _deleted

),

renamed as (

    select
        lower(coalesce(record ->> '$distinct_id', _pk)) as user_id,
        lower(record -> '$properties' ->> '$email') as email,
        record -> '$properties' ->> '$name' as user_name,
        record -> '$properties' ->> 'account_id' as account_id,
        record -> '$properties' ->> 'role' as user_role,
        coalesce((record -> '$properties' ->> 'champion')::boolean, false) as is_champion,
        nullif(record -> '$properties' ->> 'invited_date', '')::date as invited_on,
        nullif(record -> '$properties' ->> 'activated_date', '')::date as activated_on,
        nullif(record -> '$properties' ->> '$created', '')::timestamp at time zone 'UTC' as created_at

    from source

)

select * from renamed
