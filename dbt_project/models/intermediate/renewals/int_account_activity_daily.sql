{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['activity_date']}, {'columns': ['company_id', 'activity_date']}],
        on_schema_change='append_new_columns'
    )
}}
-- Active product users, events and features used (a bit mask over seed feature_catalog) per
-- account and UTC day over the whole event history (the daily usage
-- marts keep only their window): the renewal-risk features read usage as it was on any past
-- day from here. Incremental like int_user_days_aggregated: a run replaces the days from the
-- newest one aggregated minus `late_arrival_days`.
{%- set first_day = events_first_rebuilt_day('activity_date') %}
with

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date >= {{ first_day }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}
    where product_account_id is not null

),

final as (

    select
        resolved.company_id,
        user_days.activity_date,
        count(distinct user_days.user_id) as active_users,
        sum(user_days.event_count) as event_count,
        bit_or(user_days.feature_mask) as feature_mask
    from user_days
    inner join resolved on user_days.account_id = resolved.product_account_id
    group by resolved.company_id, user_days.activity_date

)

select * from final
