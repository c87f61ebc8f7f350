-- Renewal-risk features, point-in-time: one row per row of int_renewal_points_listed (past
-- renewals at each training lead, current terms on as_of_date). Every feature reads only facts
-- dated on or before the row's feature_date (usage from int_account_activity_daily, the rest
-- from int_account_risk_events_dated); tests/dbt/test_renewal_risk_model.py removes every fact
-- after a cut-off and checks no earlier row moves. Features are null where the account had no
-- data; the fitted model fills them (its fill_value). The look-ups aggregate per point and join
-- on its one key.
{%- set leads = var('risk_model_training_leads') %}
with

points as (

    select * from {{ ref('int_renewal_points_listed') }}

),

activity as (

    select * from {{ ref('int_account_activity_daily') }}

),

risk_events as (

    select * from {{ ref('int_account_risk_events_dated') }}

),

event_history as (

    -- Usage features need their whole look-back inside the loaded event history: a window
    -- before the first loaded day would read as no usage at all.
    select min(activity_date) as first_activity_date from activity

),

activity_stats as (

    select
        points.risk_point_id,
        coalesce(sum(activity.active_users) filter (where activity.activity_date > points.feature_date - 28), 0)
        as user_days_28d,
        coalesce(sum(activity.active_users) filter (
            where activity.activity_date between points.feature_date - 55 and points.feature_date - 28
        ), 0) as user_days_prev_28d,
        coalesce(sum(activity.active_users) filter (
            where activity.activity_date between points.feature_date - 118 and points.feature_date - 91
        ), 0) as user_days_quarter_earlier_28d,
        coalesce(sum(activity.active_users), 0) as user_days_182d,
        coalesce(sum(activity.active_users) filter (where activity.activity_date > points.feature_date - 91), 0)
        as user_days_91d,
        coalesce(sum(activity.event_count) filter (where activity.activity_date > points.feature_date - 28), 0)
        as events_28d,
        bit_count(
            coalesce(bit_or(activity.feature_mask) filter (where activity.activity_date > points.feature_date - 28), 0)
            ::bit(64)
        ) as features_used_28d,
        max(activity.activity_date) as last_active_on
    from points
    left join activity
        on
            points.company_id = activity.company_id
            and points.feature_date >= activity.activity_date
            and activity.activity_date > points.feature_date - 182
    group by points.risk_point_id

),

usage_stats as (

    select
        activity_stats.*,
        points.feature_date - 182 >= event_history.first_activity_date as is_history_covered
    from activity_stats
    inner join points on activity_stats.risk_point_id = points.risk_point_id
    cross join event_history

),

invited_stats as (

    -- Users invited up to the feature date, over the whole history (not only the last year).
    select
        points.risk_point_id,
        count(risk_events.event_date) as users_invited
    from points
    left join risk_events
        on
            points.company_id = risk_events.company_id
            and points.feature_date >= risk_events.event_date
            and risk_events.event_type = 'user_invited'
    group by points.risk_point_id

),

event_stats as (

    select
        points.risk_point_id,
        count(*) filter (
            where risk_events.event_type in ('ticket', 'high_severity_ticket')
            and risk_events.event_date > points.feature_date - 90
        ) as tickets_90d,
        count(*) filter (
            where risk_events.event_type = 'high_severity_ticket' and risk_events.event_date > points.feature_date - 90
        ) as high_severity_tickets_90d,
        count(*) filter (
            where risk_events.event_type = 'payment_failed' and risk_events.event_date > points.feature_date - 90
        ) as payment_failures_90d,
        count(*) filter (
            where risk_events.event_type like '%\_left' and risk_events.event_date > points.feature_date - 180
        ) as key_contacts_left_180d,
        count(*) filter (where risk_events.event_type = 'nps_answer') as nps_answers_365d,
        avg(risk_events.event_value) filter (where risk_events.event_type = 'nps_answer') as nps_average_365d,
        (array_agg(
            risk_events.event_value
            order by risk_events.event_date desc) filter (
            where risk_events.event_type = 'nps_answer'
        ))[1] as nps_latest,
        (array_agg(
            risk_events.event_value
            order by risk_events.event_date desc) filter (
            where risk_events.event_type = 'mrr_usd'
        ))[1] as mrr_usd,
        (array_agg(
            risk_events.event_value
            order by risk_events.event_date desc) filter (
            where risk_events.event_type = 'mrr_usd' and risk_events.event_date <= points.feature_date - 90
        ))[1] as mrr_usd_90d_earlier,
        (array_agg(
            risk_events.event_value
            order by risk_events.event_date desc) filter (
            where risk_events.event_type = 'seats'
        ))[1] as seats,
        (array_agg(
            risk_events.event_value
            order by risk_events.event_date desc) filter (
            where risk_events.event_type = 'seats' and risk_events.event_date <= points.feature_date - 90
        ))[1] as seats_90d_earlier
    from points
    left join risk_events
        on
            points.company_id = risk_events.company_id
            and points.feature_date >= risk_events.event_date
            and risk_events.event_date > points.feature_date - 365
    group by points.risk_point_id

),

final as (

    select
        points.risk_point_id,
        points.contract_term_id,
        points.company_id,
        points.contract_end_date,
        points.feature_date,
        points.is_training,
        points.is_churned,
        -- Features (numeric; null = no data). Leads beyond the trained ones read as the
        -- nearest trained lead.
        least(greatest(points.lead_days, {{ leads | min }}), {{ leads | max }})::numeric as lead_days,
        round((points.feature_date - points.started_on) / 365.25, 3) as tenure_years,
        (points.term_start_date <= points.started_on)::integer::numeric as is_first_term,
        (points.segment = 'enterprise')::integer::numeric as is_enterprise,
        (points.segment = 'mid_market')::integer::numeric as is_mid_market,
        (points.segment = 'smb')::integer::numeric as is_smb,
        ln(1 + 12 * event_stats.mrr_usd) as log_arr,
        ln((event_stats.mrr_usd + 1) / (event_stats.mrr_usd_90d_earlier + 1)) as mrr_change_90d,
        ln((event_stats.seats + 1) / (event_stats.seats_90d_earlier + 1)) as seats_change_90d,
        case
            when
                usage_stats.is_history_covered
                then round(usage_stats.user_days_28d / 28.0 / nullif(event_stats.seats, 0), 4)
        end
        as usage_intensity_28d,
        case
            when usage_stats.is_history_covered
                then ln((usage_stats.user_days_28d + 1.0) / (usage_stats.user_days_prev_28d + 1))
        end as usage_trend_28d,
        -- The quarter's mean share of seats, and of invited users, active per day: steadier
        -- than 28 days on a small account.
        case
            when usage_stats.is_history_covered
                then round(usage_stats.user_days_91d / 91.0 / nullif(event_stats.seats, 0), 4)
        end as usage_intensity_91d,
        case
            when usage_stats.is_history_covered
                then round(usage_stats.user_days_91d / 91.0 / nullif(invited_stats.users_invited, 0), 4)
        end as active_user_share_91d,
        case
            when usage_stats.is_history_covered
                then ln((usage_stats.user_days_28d + 1.0) / (usage_stats.user_days_quarter_earlier_28d + 1))
        end as usage_change_91d,
        -- The last 28 days against the half-year's daily mean: engagement against its own level.
        case
            when usage_stats.is_history_covered
                then ln((usage_stats.user_days_28d / 28.0 + 0.1) / (usage_stats.user_days_182d / 182.0 + 0.1))
        end as usage_vs_half_year,
        case
            when usage_stats.is_history_covered and usage_stats.user_days_28d > 0
                then round(usage_stats.events_28d::numeric / usage_stats.user_days_28d, 3)
        end as events_per_user_day_28d,
        case when usage_stats.is_history_covered then usage_stats.features_used_28d::numeric end as features_used_28d,
        case
            when usage_stats.is_history_covered
                then least(coalesce(points.feature_date - usage_stats.last_active_on, 182), 182)::numeric
        end as days_since_active,
        event_stats.tickets_90d::numeric as tickets_90d,
        event_stats.high_severity_tickets_90d::numeric as high_severity_tickets_90d,
        event_stats.payment_failures_90d::numeric as payment_failures_90d,
        event_stats.key_contacts_left_180d::numeric as key_contacts_left_180d,
        (event_stats.nps_answers_365d > 0)::integer::numeric as has_nps_365d,
        event_stats.nps_latest,
        round(event_stats.nps_average_365d, 3) as nps_average_365d,
        round(
            event_stats.nps_latest
            - (event_stats.nps_average_365d * event_stats.nps_answers_365d - event_stats.nps_latest)
            / nullif(event_stats.nps_answers_365d - 1, 0),
            3
        ) as nps_change
    from points
    inner join usage_stats on points.risk_point_id = usage_stats.risk_point_id
    inner join event_stats on points.risk_point_id = event_stats.risk_point_id
    inner join invited_stats on points.risk_point_id = invited_stats.risk_point_id

)

select * from final
