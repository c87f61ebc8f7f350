-- One row per account's current contract term on as_of_date (accounts not churned): days
-- to renewal, the segment's runway, the renewal-timeline milestone expected by now vs the
-- one the CRM renewal deal shows, a risk score 0–100 with its drivers and the forecast
-- category (commit / likely / at_risk). The risk score is the fitted model's churn probability
-- in percent (int_renewal_risks_scored) once a model version exists, DOMAIN's rule points
-- before that; both are kept side by side.
with

terms as (

    select * from {{ ref('int_contract_terms_derived') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

milestones as (

    select * from {{ ref('renewal_milestones') }}

),

health as (

    select * from {{ ref('fct_account_health_daily') }}
    where calendar_date = {{ as_of_date() }}

),

usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day = {{ as_of_date() }}

),

signals as (

    select * from {{ ref('int_account_health_signals_daily') }}
    where date_day = {{ as_of_date() }}

),

signal_flags as (

    -- One row per company (a correlated lookup per renewal scanned every signal row: quadratic
    -- at 10,000 accounts).
    select
        company_id,
        coalesce(bool_or(signal_value > 0) filter (where signal = 'ticket_escalation'), false)
        as has_ticket_escalation,
        coalesce(bool_or(signal_value < 1) filter (where signal = 'payment_health'), false)
        as has_payment_issue,
        coalesce(
            bool_or(signal_value <= -{{ var('risk_nps_drop_points') }}) filter (where signal = 'nps_drop'), false
        ) as has_nps_drop
    from signals
    group by company_id

),

current_terms as (

    select
        terms.*,
        accounts.segment,
        accounts.arr_usd,
        accounts.csm_risk_flag,
        accounts.has_open_competitor_evaluation,
        segment_targets.renewal_runway_days,
        segment_targets.renewal_runway_days_max,
        terms.contract_end_date - {{ as_of_date() }} as days_to_renewal,
        -- The milestone timeline (its first milestone at the seed's longest days_before_end)
        -- scaled to the segment's runway: the first milestone is due the day the runway starts,
        -- so the runway and milestone clocks agree.
        segment_targets.renewal_runway_days::numeric / (select max(m.days_before_end) from milestones as m)
        as timeline_scale,
        case
            when terms.renewal_deal_created_on <= {{ as_of_date() }} then terms.renewal_deal_stage
        end as deal_stage_as_of
    from terms
    inner join accounts on terms.company_id = accounts.company_id
    left join segment_targets on accounts.segment = segment_targets.segment
    where
        terms.term_start_date <= {{ as_of_date() }}
        and terms.contract_end_date > {{ as_of_date() }}
        and coalesce(accounts.churned_on > {{ as_of_date() }}, true)

),

subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

key_contact_changes as (

    select * from {{ ref('int_champion_changes_detected') }}

),

fitted as (

    select * from {{ ref('int_renewal_risks_scored') }}

),

cancellations as (

    select
        accounts.company_id,
        bool_or(
            subscriptions.is_cancel_at_period_end and subscriptions.canceled_at::date <= {{ as_of_date() }}
        ) as is_cancellation_scheduled
    from subscriptions
    inner join accounts on subscriptions.customer_id = accounts.stripe_customer_id
    group by accounts.company_id

),

milestones_compared as (

    select
        current_terms.contract_term_id,
        (
            select m.milestone from milestones as m
            where m.days_before_end * current_terms.timeline_scale >= current_terms.days_to_renewal
            order by m.milestone_order desc
            limit 1
        ) as expected_milestone,
        (
            select m.milestone_order from milestones as m
            where m.days_before_end * current_terms.timeline_scale >= current_terms.days_to_renewal
            order by m.milestone_order desc
            limit 1
        ) as expected_milestone_order,
        reached.milestone as reached_milestone,
        reached.milestone_order as reached_milestone_order
    from current_terms
    left join milestones as reached on current_terms.deal_stage_as_of = reached.crm_deal_stage

),

drivers as (

    select
        current_terms.*,
        milestones_compared.expected_milestone,
        milestones_compared.reached_milestone,
        coalesce(milestones_compared.reached_milestone_order, 0)
        < coalesce(milestones_compared.expected_milestone_order, 0) as is_milestone_behind,
        current_terms.days_to_renewal <= current_terms.renewal_runway_days as is_in_runway,
        health.health_score,
        coalesce(health.health_band, 'unknown') as health_band,
        health.score_change_30d,
        usage.usage_trend_28d,
        coalesce(cancellations.is_cancellation_scheduled, false) as is_cancellation_scheduled,
        coalesce(health.health_band = 'red', false) as driver_health_red,
        coalesce(health.health_band = 'yellow', false) as driver_health_yellow,
        coalesce(health.score_change_30d <= -{{ var('risk_health_decline_points') }}, false) as driver_health_declining,
        coalesce(usage.usage_trend_28d < -{{ var('usage_decline_tolerance') }}, false) as driver_usage_declining,
        exists(
            select 1 from key_contact_changes
            where
                key_contact_changes.company_id = current_terms.company_id
                and key_contact_changes.left_company_on between {{ as_of_date() }} - {{ var('risk_lookback_days') }}
                and {{ as_of_date() }}
        ) as driver_champion_change,
        coalesce(signal_flags.has_ticket_escalation, false) as driver_high_severity_tickets,
        coalesce(signal_flags.has_payment_issue, false) as driver_payment_failures,
        current_terms.days_to_renewal <= {{ var('renewal_late_start_days') }}
        and current_terms.deal_stage_as_of is null as driver_late_start,
        coalesce(current_terms.csm_risk_flag is not null or current_terms.has_open_competitor_evaluation, false)
        as driver_csm_risk_flag,
        coalesce(
            current_terms.deal_stage_as_of in ('{{ var("forecast_lost_deal_stages") | join("', '") }}'), false
        ) as driver_renewal_deal_lost,
        coalesce(signal_flags.has_nps_drop, false) as driver_nps_drop
    from current_terms
    left join milestones_compared on current_terms.contract_term_id = milestones_compared.contract_term_id
    left join health on current_terms.company_id = health.company_id
    left join usage on current_terms.company_id = usage.company_id
    left join cancellations on current_terms.company_id = cancellations.company_id
    left join signal_flags on current_terms.company_id = signal_flags.company_id

),

scored as (

    select
        drivers.*,
        least(
            100,
            case when drivers.driver_health_red then {{ var('risk_weight_health_red') }} else 0 end
            + case when drivers.driver_health_yellow then {{ var('risk_weight_health_yellow') }} else 0 end
            + case when drivers.driver_health_declining then {{ var('risk_weight_health_declining') }} else 0 end
            + case when drivers.driver_usage_declining then {{ var('risk_weight_usage_declining') }} else 0 end
            + case when drivers.driver_champion_change then {{ var('risk_weight_champion_change') }} else 0 end
            + case
                when drivers.driver_high_severity_tickets then {{ var('risk_weight_high_severity_tickets') }}
                else 0
            end
            + case when drivers.driver_payment_failures then {{ var('risk_weight_payment_failures') }} else 0 end
            + case when drivers.driver_late_start then {{ var('risk_weight_late_start') }} else 0 end
            + case when drivers.is_milestone_behind then {{ var('risk_weight_milestone_behind') }} else 0 end
            + case when drivers.driver_csm_risk_flag then {{ var('risk_weight_csm_risk_flag') }} else 0 end
            + case when drivers.driver_renewal_deal_lost then {{ var('risk_weight_renewal_deal_lost') }} else 0 end
            + case when drivers.driver_nps_drop then {{ var('risk_weight_nps_drop') }} else 0 end
            + case
                when drivers.is_cancellation_scheduled then {{ var('risk_weight_cancellation_scheduled') }}
                else 0
            end
        ) as risk_score_rules,
        concat_ws(
            ', ',
            case when drivers.is_cancellation_scheduled then 'cancellation_scheduled' end,
            case when drivers.driver_health_red then 'health_red' end,
            case when drivers.driver_health_yellow then 'health_yellow' end,
            case when drivers.driver_health_declining then 'health_declining' end,
            case when drivers.driver_usage_declining then 'usage_declining' end,
            case when drivers.driver_champion_change then 'champion_change' end,
            case when drivers.driver_high_severity_tickets then 'high_severity_tickets' end,
            case when drivers.driver_payment_failures then 'payment_failures' end,
            case when drivers.driver_late_start then 'late_start' end,
            case when drivers.is_milestone_behind then 'milestone_behind' end,
            case when drivers.driver_csm_risk_flag then 'crm_risk_flag' end,
            case when drivers.driver_renewal_deal_lost then 'renewal_deal_lost' end,
            case when drivers.driver_nps_drop then 'nps_drop' end
        ) as risk_rule_drivers
    from drivers

),

chosen as (

    select
        scored.*,
        fitted.risk_model_version,
        fitted.risk_probability,
        fitted.risk_contributions,
        fitted.risk_model_drivers,
        case when fitted.risk_probability is not null then 'fitted' else 'rules' end as risk_method,
        -- A scheduled cancellation or a lost renewal deal is a churn already decided.
        case
            when scored.is_cancellation_scheduled or scored.driver_renewal_deal_lost then 100
            else coalesce(round(100 * fitted.risk_probability), scored.risk_score_rules)
        end as risk_score,
        case
            when fitted.risk_probability is not null then {{ var('forecast_at_risk_fitted_risk_min') }}
            else {{ var('forecast_at_risk_risk_min') }}
        end as at_risk_min,
        case
            when fitted.risk_probability is not null then {{ var('forecast_commit_fitted_risk_max') }}
            else {{ var('forecast_commit_risk_max') }}
        end as commit_max
    from scored
    left join fitted on scored.contract_term_id = fitted.contract_term_id

),

final as (

    select
        scored.contract_term_id,
        scored.company_id,
        {{ as_of_date() }} as as_of_date,
        scored.segment,
        scored.arr_usd,
        scored.term_start_date,
        scored.contract_end_date,
        scored.days_to_renewal,
        scored.renewal_runway_days,
        (scored.contract_end_date - scored.renewal_runway_days) as runway_start_date,
        scored.is_in_runway,
        scored.renewal_deal_id,
        scored.deal_stage_as_of as renewal_deal_stage,
        scored.expected_milestone,
        scored.reached_milestone,
        scored.is_milestone_behind,
        scored.health_score,
        scored.health_band,
        scored.score_change_30d as health_change_30d,
        scored.usage_trend_28d,
        scored.is_cancellation_scheduled,
        scored.driver_champion_change as is_champion_changed,
        scored.driver_high_severity_tickets as is_high_severity_ticket_raised,
        scored.driver_payment_failures as is_payment_failed,
        scored.driver_late_start as is_late_start,
        scored.csm_risk_flag,
        scored.driver_csm_risk_flag as is_crm_risk_flagged,
        scored.driver_renewal_deal_lost as is_renewal_deal_lost,
        scored.driver_nps_drop as is_nps_dropped,
        scored.risk_score::integer as risk_score,
        scored.risk_method,
        scored.risk_score_rules::integer as risk_score_rules,
        scored.risk_probability::numeric as risk_probability,
        scored.risk_model_version,
        scored.risk_contributions,
        scored.risk_model_drivers,
        scored.risk_rule_drivers,
        case
            when scored.risk_method = 'fitted' then coalesce(scored.risk_model_drivers, '') else
                scored.risk_rule_drivers
        end
        as risk_drivers,
        -- A scheduled cancellation, high risk or red health is at_risk whatever the deal stage;
        -- only then does a committed deal stage (or low risk) make it commit.
        case
            when
                scored.is_cancellation_scheduled
                or scored.risk_score >= scored.at_risk_min
                or scored.health_band = 'red'
                then 'at_risk'
            when scored.deal_stage_as_of in ('{{ var("forecast_commit_deal_stages") | join("', '") }}') then 'commit'
            when scored.risk_score < scored.commit_max then 'commit'
            else 'likely'
        end as forecast_category
    from chosen as scored

)

select * from final
