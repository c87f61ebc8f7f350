-- One row per account and day over the history window ending at as_of_date: active-seat
-- ratio, DAU/WAU/MAU, feature depth, and the targets of the segment and usage type.
with

account_usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day >= {{ daily_build_start(history_start_date()) }}

),

final as (

    select * from account_usage

)

select * from final
{{ daily_write_order() }}
