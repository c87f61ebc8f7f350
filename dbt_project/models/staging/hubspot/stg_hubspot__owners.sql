with

source as (

    select * from {{ source('hubspot', 'owners') }}
    where not _deleted

),

primary_teams as (

    select distinct on (source._pk)
        source._pk as owner_id,
        team_json.value ->> 'name' as team_name

    from source
    cross join lateral jsonb_array_elements(coalesce(source.record -> 'teams', '[]'::jsonb)) as team_json (value)
    order by source._pk asc, coalesce((team_json.value ->> 'primary')::boolean, false) desc

),

renamed as (

    select
        source._pk as owner_id,
        lower(source.record ->> 'email') as email,
        source.record ->> 'firstName' as first_name,
        source.record ->> 'lastName' as last_name,
        primary_teams.team_name,
        (source.record ->> 'userId')::bigint as user_id,
        coalesce((source.record ->> 'archived')::boolean, false) as is_archived

    from source
    left join primary_teams on source._pk = primary_teams.owner_id

)

select * from renamed
