-- Health score inputs per account and day, one row per signal (long format): the signal's raw
-- value and its 0–100 score, graded on a continuous scale between the segment's floor (0) and
-- target (100) in seed health_signal_targets; both null when the account has no data for the
-- signal (never a perfect 100). Covers the history window plus 30 days, so the mart can report
-- 30-day changes from its first day.
with

usage as (

    -- The rebuilt days plus the look-back of the active-seat change.
    select * from {{ ref('int_account_usage_daily') }}
    where date_day >= {{ daily_build_start(health_history_start_date()) }} - {{ var('active_seat_change_days') }}

),

signal_targets as (

    select * from {{ ref('health_signal_targets') }}

),

stripe_events as (

    select * from {{ ref('stg_stripe__events') }}
    where event_type = 'invoice.payment_failed'

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

crm_tickets as (

    select * from {{ ref('stg_hubspot__tickets') }}

),

ticket_companies as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'companies' and to_object_type = 'tickets'

),

stripe_invoices as (

    select * from {{ ref('stg_stripe__invoices') }}

),

tickets as (

    select
        ticket_companies.from_object_id as company_id,
        (crm_tickets.created_at at time zone 'UTC')::date as opened_on,
        case
            when crm_tickets.priority in ('high', 'urgent') then {{ var('high_severity_ticket_weight') }} else 1
        end as severity_weight,
        crm_tickets.priority in ('high', 'urgent') as is_high_severity
    from crm_tickets
    inner join ticket_companies on crm_tickets.ticket_id = ticket_companies.to_object_id

),

nps as (

    select * from {{ ref('int_nps_responses_joined') }}
    where company_id is not null

),

key_contact_changes as (

    select * from {{ ref('int_champion_changes_detected') }}

),

seat_cuts as (

    select * from {{ ref('int_journey_triggers_detected') }}
    where trigger_type = 'seat_contraction'

),

failed_invoices as (

    -- An open invoice is only unpaid so far; a failed payment needs evidence of a failed
    -- charge: a payment_failed event (kept from the day it was synced) or a retried charge.
    select
        object_id as invoice_id,
        min((created_at at time zone 'UTC')::date) as failed_on
    from stripe_events
    group by object_id

),

invoices as (

    select
        accounts.company_id,
        (stripe_invoices.created_at at time zone 'UTC')::date as invoiced_on,
        coalesce(
            failed_invoices.failed_on,
            case when stripe_invoices.attempt_count > 1 then (stripe_invoices.created_at at time zone 'UTC')::date end
        ) as failed_on,
        case
            when stripe_invoices.invoice_status = 'uncollectible' then
                (coalesce(stripe_invoices.marked_uncollectible_at, stripe_invoices.created_at) at time zone 'UTC')::date
        end as uncollectible_on
    from stripe_invoices
    inner join accounts on stripe_invoices.customer_id = accounts.stripe_customer_id
    left join failed_invoices on stripe_invoices.invoice_id = failed_invoices.invoice_id

),

account_days as (

    select
        usage.company_id,
        usage.date_day,
        usage.active_seat_ratio,
        usage.feature_depth_30d,
        usage.usage_trend_28d,
        usage.users_invited,
        -- Mean share of the seats active per day over 28 days (usage intensity).
        usage.active_user_days_28d::numeric / nullif(usage.seats, 0) / 28 as daily_active_seat_share_28d,
        usage.active_seat_ratio - earlier.active_seat_ratio as active_seat_change
    from usage
    left join usage as earlier
        on
            usage.company_id = earlier.company_id
            and earlier.date_day = usage.date_day - {{ var('active_seat_change_days') }}
            and earlier.users_invited > 0
    where usage.date_day >= {{ daily_build_start(health_history_start_date()) }}

),

ticket_stats as (

    select
        account_days.company_id,
        account_days.date_day,
        coalesce(sum(tickets.severity_weight) filter (
            where tickets.opened_on > account_days.date_day - {{ var('ticket_recent_days') }}
        ), 0) as recent_ticket_load,
        coalesce(sum(tickets.severity_weight) filter (
            where tickets.opened_on <= account_days.date_day - {{ var('ticket_recent_days') }}
        ), 0)::numeric
        * {{ var('ticket_recent_days') }} / ({{ var('ticket_norm_days') }} - {{ var('ticket_recent_days') }})
        as norm_ticket_load,
        count(tickets.opened_on) as norm_window_tickets,
        count(tickets.opened_on) filter (
            where tickets.opened_on > account_days.date_day - {{ var('ticket_escalation_days') }}
        ) as escalation_window_tickets,
        count(tickets.opened_on) filter (
            where tickets.opened_on > account_days.date_day - {{ var('ticket_escalation_days') }}
            and tickets.is_high_severity
        ) as escalation_window_high_severity
    from account_days
    left join tickets
        on
            account_days.company_id = tickets.company_id
            and account_days.date_day >= tickets.opened_on
            and tickets.opened_on > account_days.date_day - {{ var('ticket_norm_days') }}
    group by account_days.company_id, account_days.date_day

),

nps_stats as (

    select
        account_days.company_id,
        account_days.date_day,
        avg(nps.nps_score) as nps_average,
        count(*) as nps_answers,
        (array_agg(
            nps.nps_score
            order by nps.submitted_at desc
        ))[1] as nps_latest,
        -- The mean of the answers before the latest one (equal times: any one is the latest).
        (
            sum(nps.nps_score) - (array_agg(
                nps.nps_score
                order by nps.submitted_at desc
            ))[1]
        )::numeric
        / nullif(count(*) - 1, 0) as nps_earlier_average
    from account_days
    inner join nps
        on
            account_days.company_id = nps.company_id
            and account_days.date_day >= nps.submitted_on
            and nps.submitted_on > account_days.date_day - {{ var('nps_lookback_days') }}
    group by account_days.company_id, account_days.date_day

),

contact_stats as (

    select
        account_days.company_id,
        account_days.date_day,
        bool_or(
            key_contact_changes.replaced_on is null or key_contact_changes.replaced_on > account_days.date_day
        ) as has_unreplaced_departure
    from account_days
    inner join key_contact_changes
        on
            account_days.company_id = key_contact_changes.company_id
            and account_days.date_day >= key_contact_changes.left_company_on
            and key_contact_changes.left_company_on > account_days.date_day - {{ var('key_contact_change_days') }}
    group by account_days.company_id, account_days.date_day

),

seat_stats as (

    select distinct
        account_days.company_id,
        account_days.date_day
    from account_days
    inner join seat_cuts
        on
            account_days.company_id = seat_cuts.company_id
            and account_days.date_day >= seat_cuts.triggered_on
            and seat_cuts.triggered_on > account_days.date_day - {{ var('seat_contraction_lookback_days') }}

),

payment_stats as (

    select
        account_days.company_id,
        account_days.date_day,
        count(invoices.invoiced_on) as invoices_to_date,
        coalesce(bool_or(invoices.failed_on <= account_days.date_day) filter (
            where invoices.invoiced_on > account_days.date_day - {{ var('payment_lookback_days') }}
        ), false) as has_failed_payment,
        coalesce(bool_or(invoices.uncollectible_on <= account_days.date_day) filter (
            where invoices.invoiced_on > account_days.date_day - {{ var('payment_lookback_days') }}
        ), false) as has_uncollectible
    from account_days
    inner join invoices
        on account_days.company_id = invoices.company_id and account_days.date_day >= invoices.invoiced_on
    group by account_days.company_id, account_days.date_day

),

signal_values as (

    -- Raw values; null = no data for the signal. Events are 0 (bad) / 1 (good) values.
    select
        account_days.company_id,
        account_days.date_day,
        accounts.segment,
        case when account_days.users_invited > 0 then account_days.active_seat_ratio end as active_seat_ratio,
        case
            when account_days.users_invited > 0 then account_days.daily_active_seat_share_28d
        end as usage_intensity,
        case when account_days.users_invited > 0 then account_days.feature_depth_30d end as feature_depth,
        account_days.usage_trend_28d as usage_trend,
        account_days.active_seat_change,
        -- Severity-weighted tickets of the recent window over the account's own norm; no
        -- tickets in the norm window is no data, not a perfect score.
        case
            when ticket_stats.norm_window_tickets > 0 then
                ticket_stats.recent_ticket_load / greatest(ticket_stats.norm_ticket_load, 1)
        end as ticket_load,
        nps_stats.nps_average as nps_level,
        -- Tickets and NPS answers in the look-backs: a silent account is a value (0), not missing.
        coalesce(ticket_stats.norm_window_tickets, 0) + coalesce(nps_stats.nps_answers, 0) as touchpoints,
        nps_stats.nps_latest - nps_stats.nps_earlier_average as nps_drop,
        case
            when contact_stats.has_unreplaced_departure then 0
            when contact_stats.company_id is not null then 0.4
            else 1
        end as champion_stability,
        case when seat_stats.company_id is not null then 0 when account_days.users_invited > 0 then 1 end
        as seat_stability,
        case
            when payment_stats.company_id is null then null
            when payment_stats.has_uncollectible then 0
            when payment_stats.has_failed_payment then 0.4
            else 1
        end as payment_health,
        -- A risk flag is evidence when set; an empty flag says nothing (no data).
        case when accounts.has_open_competitor_evaluation or accounts.csm_risk_flag is not null then 0 end
        as crm_risk_flag,
        nps_stats.nps_latest as latest_nps,
        case
            when ticket_stats.escalation_window_tickets > 0 then
                ticket_stats.escalation_window_high_severity::numeric / ticket_stats.escalation_window_tickets
        end as ticket_escalation
    from account_days
    inner join accounts on account_days.company_id = accounts.company_id
    left join ticket_stats
        on account_days.company_id = ticket_stats.company_id and account_days.date_day = ticket_stats.date_day
    left join nps_stats
        on account_days.company_id = nps_stats.company_id and account_days.date_day = nps_stats.date_day
    left join contact_stats
        on account_days.company_id = contact_stats.company_id and account_days.date_day = contact_stats.date_day
    left join seat_stats
        on account_days.company_id = seat_stats.company_id and account_days.date_day = seat_stats.date_day
    left join payment_stats
        on account_days.company_id = payment_stats.company_id and account_days.date_day = payment_stats.date_day

),

unpivoted as (

    select
        signal_values.company_id,
        signal_values.date_day,
        signal_values.segment,
        unpivot.signal,
        unpivot.signal_value::numeric as signal_value
    from signal_values
    cross join lateral (
        values
        ('active_seat_ratio', signal_values.active_seat_ratio),
        ('usage_intensity', signal_values.usage_intensity),
        ('feature_depth', signal_values.feature_depth),
        ('usage_trend', signal_values.usage_trend),
        ('active_seat_change', signal_values.active_seat_change),
        ('ticket_load', signal_values.ticket_load),
        ('nps_level', signal_values.nps_level),
        ('touchpoints', signal_values.touchpoints),
        ('nps_drop', signal_values.nps_drop),
        ('champion_stability', signal_values.champion_stability),
        ('seat_stability', signal_values.seat_stability),
        ('payment_health', signal_values.payment_health),
        ('crm_risk_flag', signal_values.crm_risk_flag),
        ('latest_nps', signal_values.latest_nps),
        ('ticket_escalation', signal_values.ticket_escalation)
    ) as unpivot (signal, signal_value)

),

graded as (

    -- Linear between the segment's floor (0) and target (100), clamped; a floor above the
    -- target grades a signal where less is better.
    select
        unpivoted.company_id,
        unpivoted.date_day,
        unpivoted.signal,
        round(unpivoted.signal_value, 4) as signal_value,
        -- (greatest and least skip nulls: a value without data must stay null.)
        case when unpivoted.signal_value is not null then round(
            100 * greatest(0, least(
                1,
                (unpivoted.signal_value - signal_targets.floor_value)
                / nullif(signal_targets.target_value - signal_targets.floor_value, 0)
            )),
            2
        ) end as signal_score
    from unpivoted
    left join signal_targets
        on unpivoted.segment = signal_targets.segment and unpivoted.signal = signal_targets.signal

),

final as (

    select
        md5(company_id || '|' || date_day::text || '|' || signal) as account_day_signal_id,
        company_id,
        date_day,
        signal,
        signal_value,
        signal_score
    from graded

)

select * from final
{{ daily_write_order() }}
