with

source as (

    select * from {{ source('stripe', 'customers') }}
    where not _deleted

),

renamed as (

    select
        _pk as customer_id,
        record ->> 'name' as customer_name,
        record ->> 'email' as email,
        record ->> 'currency' as currency,
        (record ->> 'delinquent')::boolean as is_delinquent,
        nullif(record -> 'metadata' ->> 'hubspot_company_id', '') as hubspot_company_id,
        nullif(record -> 'metadata' ->> 'product_account_id', '') as product_account_id,
        to_timestamp((record ->> 'created')::bigint) as created_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
