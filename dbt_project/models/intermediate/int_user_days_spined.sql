{{ config(pre_hook="set local work_mem = '" ~ var('heavy_model_work_mem') ~ "'") }}
{#- Rolling counts look back 56 days and the feature mask 30: the padding covers both. #}
{%- set read_start = daily_read_start(padded_history_start_date(), var('lookback_padding_days')) %}
-- One row per product user and day, from the history window start minus a lookback padding
-- to as_of_date: activity that day and rolling activity (7/14/28 days, previous 28 days),
-- features used in the last 30 days as a bit mask over seed `feature_catalog`, and the
-- user's first and last active day so far. Incremental: a run rebuilds the days since the last
-- run (macros/daily_windows.sql).
with

profiles as (

    select * from {{ ref('stg_mixpanel__users') }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date <= {{ as_of_date() }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

churned_accounts as (

    -- Users of accounts that churned before the spine starts are left out; the others stop at churn.
    select
        resolved.product_account_id,
        lifecycles.churned_on
    from resolved
    inner join {{ ref('int_account_lifecycles_derived') }} as lifecycles on resolved.company_id = lifecycles.company_id
    where lifecycles.churned_on is not null and resolved.product_account_id is not null

),

catalog as (

    select * from {{ ref('feature_catalog') }}

),

feature_bits as (

    select
        feature_key,
        (dense_rank() over (
            order by feature_key
        ) - 1)::integer as bit_position
    from (select distinct feature_key from catalog) as features

),

role_masks as (

    select
        catalog.role,
        bit_or(1 << feature_bits.bit_position) as relevant_mask,
        bit_or(1 << feature_bits.bit_position) filter (where not catalog.is_core) as advanced_mask
    from catalog
    inner join feature_bits on catalog.feature_key = feature_bits.feature_key
    group by catalog.role

),

event_only_users as (

    select
        user_days.user_id,
        max(user_days.account_id) as account_id,
        max(user_days.user_role) as user_role,
        min(user_days.activity_date) as invited_on
    from user_days
    left join profiles on user_days.user_id = profiles.user_id
    where profiles.user_id is null
    group by user_days.user_id

),

users as (

    select
        user_id,
        account_id,
        user_role,
        invited_on,
        activated_on
    from profiles
    where invited_on <= {{ as_of_date() }}
    union all
    select
        user_id,
        account_id,
        user_role,
        invited_on,
        null as activated_on
    from event_only_users

),

activity_bounds as (

    select
        user_id,
        min(activity_date) as first_active_on,
        max(activity_date) filter (
            where activity_date < {{ read_start }}
        ) as last_active_before_spine
    from user_days
    group by user_id

),

day_masks as (

    select
        user_days.user_id,
        user_days.activity_date,
        user_days.event_count,
        user_days.login_count,
        coalesce(bit_or(1 << feature_bits.bit_position), 0) as feature_mask
    from user_days
    left join lateral unnest(user_days.features_used) as used (feature_key) on true
    left join feature_bits on used.feature_key = feature_bits.feature_key
    where user_days.activity_date >= {{ read_start }}
    group by user_days.user_id, user_days.activity_date, user_days.event_count, user_days.login_count

),

user_attributes as (

    -- Joined once per user, not once per user-day: at 10,000 accounts the spine has tens of
    -- millions of rows, and joining these after the windows sorted all of them again.
    select
        users.user_id,
        users.account_id,
        users.user_role,
        users.invited_on,
        users.activated_on,
        resolved.company_id,
        churned_accounts.churned_on,
        coalesce(role_masks.relevant_mask, 0) as relevant_feature_mask,
        coalesce(role_masks.advanced_mask, 0) as advanced_feature_mask,
        activity_bounds.first_active_on,
        activity_bounds.last_active_before_spine
    from users
    left join resolved on users.account_id = resolved.product_account_id
    left join churned_accounts on users.account_id = churned_accounts.product_account_id
    left join role_masks on users.user_role = role_masks.role
    left join activity_bounds on users.user_id = activity_bounds.user_id

),

spine as (

    select
        user_attributes.*,
        date_day::date as date_day
    from user_attributes
    cross join lateral generate_series(
        greatest(user_attributes.invited_on, {{ read_start }}),
        least({{ as_of_date() }}, user_attributes.churned_on - 1),
        interval '1 day'
    ) as date_day

),

running as (

    -- Running totals in one window pass; rolling counts are differences of running totals.
    select
        spine.*,
        day_masks.activity_date is not null as is_active,
        coalesce(day_masks.event_count, 0) as event_count,
        coalesce(day_masks.login_count, 0) as login_count,
        sum((day_masks.activity_date is not null)::integer) over to_date as active_days_running,
        sum(coalesce(day_masks.login_count, 0)) over to_date as logins_running,
        max(day_masks.activity_date) over to_date as last_active_in_spine,
        bit_or(coalesce(day_masks.feature_mask, 0)) over last_30 as feature_mask_30d
    from spine
    left join day_masks on spine.user_id = day_masks.user_id and spine.date_day = day_masks.activity_date
    window
        to_date as (
            partition by spine.user_id
            order by spine.date_day rows between unbounded preceding and current row
        ),
        last_30 as (
            partition by spine.user_id
            order by spine.date_day rows between 29 preceding and current row
        )

),

rolling as (

    select
        running.*,
        running.active_days_running - coalesce(lag(running.active_days_running, 7) over by_day, 0) as active_days_7d,
        running.active_days_running - coalesce(lag(running.active_days_running, 14) over by_day, 0) as active_days_14d,
        running.active_days_running - coalesce(lag(running.active_days_running, 28) over by_day, 0) as active_days_28d,
        coalesce(lag(running.active_days_running, 28) over by_day, 0)
        - coalesce(lag(running.active_days_running, 56) over by_day, 0) as active_days_prev_28d,
        running.logins_running - coalesce(lag(running.logins_running, 7) over by_day, 0) as logins_7d
    from running
    window by_day as (
        partition by running.user_id
        order by running.date_day
    )

),

final as (

    select
        md5(rolling.user_id || '|' || rolling.date_day::text) as user_day_id,
        rolling.user_id,
        rolling.account_id,
        rolling.company_id,
        rolling.user_role,
        rolling.invited_on,
        rolling.activated_on,
        rolling.date_day,
        rolling.is_active,
        rolling.event_count,
        rolling.login_count,
        rolling.active_days_7d,
        rolling.active_days_14d,
        rolling.active_days_28d,
        rolling.active_days_prev_28d,
        rolling.logins_7d,
        rolling.feature_mask_30d,
        rolling.relevant_feature_mask,
        rolling.advanced_feature_mask,
        bit_count((rolling.feature_mask_30d & rolling.relevant_feature_mask)::bit(32)) as features_used_30d,
        bit_count(rolling.relevant_feature_mask::bit(32)) as relevant_feature_count,
        case
            when rolling.first_active_on <= rolling.date_day then rolling.first_active_on
        end as first_active_on,
        coalesce(rolling.last_active_in_spine, rolling.last_active_before_spine) as last_active_on

    from rolling
    where rolling.date_day >= {{ daily_build_start(padded_history_start_date()) }}

)

select * from final
