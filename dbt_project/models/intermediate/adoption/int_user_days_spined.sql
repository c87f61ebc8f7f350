{{ config(pre_hook="set local work_mem = '" ~ var('heavy_model_work_mem') ~ "'") }}
{#- Rolling counts look back 56 days and the feature mask 30: the padding covers both. #}
{%- set build_start = daily_build_start(padded_history_start_date()) %}
{%- set read_start = daily_read_start(padded_history_start_date(), var('lookback_padding_days')) %}
{%- set rebuilt_list = daily_rebuilt_days(build_start) | trim %}
{%- set rebuilt_days = rebuilt_list.split(',') if rebuilt_list else [] %}
-- One row per product user and day, from the history window start minus a lookback padding
-- to as_of_date: activity that day and rolling activity (7/14/28 days, previous 28 days),
-- features used in the last 30 days as a bit mask over seed `feature_catalog`, and the
-- user's first and last active day so far. Incremental: a run rebuilds the days since the last
-- run (macros/daily_windows.sql). A full build windows over a dense spine of every user-day; an
-- incremental one windows over the rebuilt days plus only the active days of the look-back,
-- with range frames (tests/dbt checks both give the same rows).
with

profiles as (

    select * from {{ ref('stg_mixpanel__users') }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date <= {{ as_of_date() }}

),

recent_user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date >= {{ read_start }} and activity_date <= {{ as_of_date() }}

),

resolved as (

    select * from {{ ref('int_accounts_resolved') }}

),

lifecycles as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

churned_accounts as (

    -- Users of accounts that churned before the spine starts are left out; the others stop at churn.
    select
        resolved.product_account_id,
        lifecycles.churned_on
    from resolved
    inner join lifecycles on resolved.company_id = lifecycles.company_id
    where lifecycles.churned_on is not null and resolved.product_account_id is not null

),

catalog as (

    select * from {{ ref('feature_catalog') }}

),

feature_bits as (

    select * from {{ ref('int_features_numbered') }}

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

user_activity as (

    -- One pass over the whole history (each CTE over the user-days is read once, so PostgreSQL
    -- inlines it rather than materialising millions of rows).
    select
        user_id,
        max(account_id) as account_id,
        max(user_role) as user_role,
        min(activity_date) as first_active_on,
        max(activity_date) filter (
            where activity_date < {{ read_start }}
        ) as last_active_before_spine
    from user_days
    group by user_id

),

event_only_users as (

    select
        user_activity.user_id,
        user_activity.account_id,
        user_activity.user_role,
        user_activity.first_active_on as invited_on
    from user_activity
    left join profiles on user_activity.user_id = profiles.user_id
    where profiles.user_id is null

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

day_masks as (

    select
        user_id,
        activity_date,
        event_count,
        login_count,
        -- Rows aggregated before int_user_days_aggregated stored the mask get it from their list.
        coalesce(feature_mask, (
            select coalesce(bit_or(1 << feature_bits.bit_position), 0)
            from unnest(recent_user_days.features_used) as used (feature_key)
            inner join feature_bits on used.feature_key = feature_bits.feature_key
        )) as feature_mask
    from recent_user_days

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
        user_activity.first_active_on,
        user_activity.last_active_before_spine
    from users
    left join resolved on users.account_id = resolved.product_account_id
    left join churned_accounts on users.account_id = churned_accounts.product_account_id
    left join role_masks on users.user_role = role_masks.role
    left join user_activity on users.user_id = user_activity.user_id

),

{% if is_incremental() %}

    -- Incremental: output rows only for the rebuilt days (a few per daily run).
    build_days as (

        select
            user_attributes.user_id,
            date_day::date as date_day
        from user_attributes
        cross join lateral generate_series(
            greatest(user_attributes.invited_on, {{ build_start }}),
            least({{ as_of_date() }}, user_attributes.churned_on - 1),
            interval '1 day'
        ) as date_day

    ),

{% endif %}

{% if rebuilt_days %}

    -- A daily run (a few rebuilt days): every rolling figure of every rebuilt day from one
    -- aggregate per user over their active days in the look-back, one set of filtered
    -- aggregates per rebuilt day. The same counts as the range windows below, without sorting
    -- the look-back by user and day or passing over it once per window.
    spine_active_days as (

        -- Active days on days the full build's spine has for the user.
        select day_masks.*
        from day_masks
        inner join user_attributes on day_masks.user_id = user_attributes.user_id
        where
            day_masks.activity_date >= user_attributes.invited_on
            and (user_attributes.churned_on is null or day_masks.activity_date < user_attributes.churned_on)

    ),

    per_user as (

        select
            user_id,
            {%- for day in rebuilt_days %}
                {%- set d = "'" ~ day ~ "'::date" %}
                {%- set i = loop.index0 %}
                count(*) filter (where activity_date = {{ d }}) > 0 as is_active_{{ i }},
                max(event_count) filter (where activity_date = {{ d }}) as event_count_{{ i }},
                max(login_count) filter (where activity_date = {{ d }}) as login_count_{{ i }},
                count(*) filter (where activity_date between {{ d }} - 6 and {{ d }}) as active_days_7d_{{ i }},
                count(*) filter (where activity_date between {{ d }} - 13 and {{ d }}) as active_days_14d_{{ i }},
                count(*) filter (where activity_date between {{ d }} - 27 and {{ d }}) as active_days_28d_{{ i }},
                count(*) filter (where activity_date between {{ d }} - 55 and {{ d }} - 28) as active_days_prev_28d_{{ i }},
                sum(login_count) filter (where activity_date between {{ d }} - 6 and {{ d }}) as logins_7d_{{ i }},
                bit_or(feature_mask) filter (where activity_date between {{ d }} - 29 and {{ d }}) as feature_mask_30d_{{ i }},
                max(activity_date) filter (where activity_date <= {{ d }}) as last_active_in_spine_{{ i }}{{ "," if not loop.last }}
            {%- endfor %}
        from spine_active_days
        group by user_id

    ),

    rolling as (

        select
            user_attributes.*,
            build_days.date_day,
            {%- for column, default in [
                ("is_active", "false"), ("event_count", "0"), ("login_count", "0"),
                ("active_days_7d", "0"), ("active_days_14d", "0"), ("active_days_28d", "0"),
                ("active_days_prev_28d", "0"), ("logins_7d", "0"), ("feature_mask_30d", "0"),
                ("last_active_in_spine", "null")
            ] %}
                coalesce(case build_days.date_day
                    {%- for day in rebuilt_days %}
                        when '{{ day }}'::date then per_user.{{ column }}_{{ loop.index0 }}
                    {%- endfor %}
                end, {{ default }}) as {{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from build_days
        inner join user_attributes on build_days.user_id = user_attributes.user_id
        left join per_user on build_days.user_id = per_user.user_id

    ),

{% elif is_incremental() %}

    -- Incremental: only the rebuilt days (a few per daily run) need output rows, and their
    -- rolling counts need only the active days of the look-back before them. A dense spine over
    -- the whole look-back would be ~60 user-days per output row (18 M at 10,000 accounts).
    output_days as (

        select
            build_days.user_id,
            build_days.date_day,
            day_masks.activity_date is not null as is_active,
            coalesce(day_masks.event_count, 0) as event_count,
            coalesce(day_masks.login_count, 0) as login_count,
            coalesce(day_masks.feature_mask, 0) as feature_mask,
            day_masks.activity_date
        from build_days
        left join day_masks on build_days.user_id = day_masks.user_id and build_days.date_day = day_masks.activity_date

    ),

    lookback_days as (

        -- Active days before the rebuilt ones, on days the full build's spine has for the user.
        select
            day_masks.user_id,
            day_masks.activity_date as date_day,
            true as is_active,
            day_masks.event_count,
            day_masks.login_count,
            day_masks.feature_mask,
            day_masks.activity_date
        from day_masks
        inner join user_attributes on day_masks.user_id = user_attributes.user_id
        where
            day_masks.activity_date < {{ build_start }}
            and day_masks.activity_date >= user_attributes.invited_on
            and (user_attributes.churned_on is null or day_masks.activity_date < user_attributes.churned_on)

    ),

    sparse_days as (

        select * from output_days
        union all
        select * from lookback_days

    ),

    windowed as (

        -- Range frames over days, not rows: the look-back has only the active days. The rows
        -- stay narrow through the window passes; the user's attributes join afterwards.
        select
            sparse_days.*,
            count(*) filter (where sparse_days.is_active) over last_7 as active_days_7d,
            count(*) filter (where sparse_days.is_active) over last_14 as active_days_14d,
            count(*) filter (where sparse_days.is_active) over last_28 as active_days_28d,
            count(*) filter (where sparse_days.is_active) over prev_28 as active_days_prev_28d,
            sum(sparse_days.login_count) over last_7 as logins_7d,
            bit_or(sparse_days.feature_mask) over last_30 as feature_mask_30d,
            max(sparse_days.activity_date) over to_date as last_active_in_spine
        from sparse_days
        window
            by_day as (
                partition by sparse_days.user_id
                order by sparse_days.date_day
            ),
            last_7 as (by_day range between interval '6 days' preceding and current row),
            last_14 as (by_day range between interval '13 days' preceding and current row),
            last_28 as (by_day range between interval '27 days' preceding and current row),
            prev_28 as (by_day range between interval '55 days' preceding and interval '28 days' preceding),
            last_30 as (by_day range between interval '29 days' preceding and current row),
            to_date as (by_day rows between unbounded preceding and current row)

    ),

    rolling as (

        select
            user_attributes.*,
            windowed.date_day,
            windowed.is_active,
            windowed.event_count,
            windowed.login_count,
            windowed.active_days_7d,
            windowed.active_days_14d,
            windowed.active_days_28d,
            windowed.active_days_prev_28d,
            windowed.logins_7d,
            windowed.feature_mask_30d,
            windowed.last_active_in_spine
        from windowed
        inner join user_attributes on windowed.user_id = user_attributes.user_id
        where windowed.date_day >= {{ build_start }}

    ),

{% else %}

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

{% endif %}

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
    where rolling.date_day >= {{ build_start }}

)

select * from final
{{ daily_write_order() }}
