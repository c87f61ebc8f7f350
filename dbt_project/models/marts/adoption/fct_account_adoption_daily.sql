-- One row per account and day over the history window ending at as_of_date: active-seat
-- ratio, DAU/WAU/MAU, feature depth, and the targets of the segment and usage type.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
with

account_usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day >= {{ daily_build_start(history_start_date()) }}

),

final as (

    select
        account_day_id,
        company_id,
        date_day as calendar_date,
        segment,
        usage_type,
        seats,
        users_invited,
        users_activated,
        daily_active_users,
        weekly_active_users,
        monthly_active_users,
        dau_seat_ratio,
        wau_seat_ratio,
        mau_seat_ratio,
        active_seat_ratio,
        features_used_30d,
        relevant_feature_count,
        feature_depth_30d,
        active_user_days_28d,
        active_user_days_prev_28d,
        usage_trend_28d,
        active_seat_ratio_target,
        feature_depth_target,
        usage_primary_window,
        usage_primary_target,
        usage_secondary_window,
        usage_secondary_target,
        meets_active_seat_target as is_active_seat_target_met,
        meets_feature_depth_target as is_feature_depth_target_met,
        meets_usage_type_target as is_usage_type_target_met
    from account_usage

)

select * from final
{{ daily_write_order() }}
