-- depends_on: {{ ref('stg_postsale__risk_model_versions') }}
with

source as (

    {{ source_if_exists('postsale', 'risk_model_coefficients', {
        'version_id': 'text', 'feature': 'text', 'fill_value': 'double precision',
        'center': 'double precision', 'scale': 'double precision', 'coefficient': 'double precision'
    }) }}

),

renamed as (

    select
        version_id,
        feature,
        fill_value,
        center,
        scale,
        coefficient
    from source

)

select * from renamed
