with

source as (

    select * from {{ source('hubspot', 'associations') }}
    where not _deleted

),

renamed as (

    select
        _pk as association_id,
        record ->> 'from_type' as from_object_type,
        record ->> 'from_id' as from_object_id,
        record ->> 'to_type' as to_object_type,
        record ->> 'to_id' as to_object_id,
        record -> 'types' -> 0 ->> 'label' as association_label,
        record -> 'types' -> 0 ->> 'category' as association_category,
        (record -> 'types' -> 0 ->> 'typeId')::integer as association_type_id

    from source

)

select * from renamed
