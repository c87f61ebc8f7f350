-- One row per product feature of seed `feature_catalog` and its bit in the feature masks
-- (features in key order from bit 0): int_user_days_aggregated stores each user-day's mask
-- with these bits, int_user_days_spined builds the role masks and 30-day masks with them.
with

catalog as (

    select * from {{ ref('feature_catalog') }}

),

features as (

    select distinct feature_key from catalog

),

final as (

    select
        feature_key,
        (dense_rank() over (
            order by feature_key
        ) - 1)::integer as bit_position
    from features

)

select * from final
