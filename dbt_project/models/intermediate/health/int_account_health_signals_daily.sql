-- Health score inputs per account and day, one row per signal (long format) with a 0–100
-- score, or null when the account has no data for the signal. Covers the history window
-- plus 30 days, so the mart can report 30-day changes from its first day.
with

usage as (

    select * from {{ ref('int_account_usage_daily') }}
    where date_day >= {{ daily_build_start(health_history_start_date()) }}

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

invoices as (

    select
        accounts.company_id,
        (stripe_invoices.created_at at time zone 'UTC')::date as invoiced_on,
        stripe_invoices.attempt_count > 1 or stripe_invoices.invoice_status = 'open' as has_failed_payment,
        stripe_invoices.invoice_status = 'uncollectible' as is_uncollectible
    from stripe_invoices
    inner join accounts on stripe_invoices.customer_id = accounts.stripe_customer_id

),

account_days as (

    select
        usage.company_id,
        usage.date_day,
        usage.active_seat_ratio,
        usage.feature_depth_30d,
        usage.usage_trend_28d,
        usage.users_invited
    from usage

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
        count(tickets.opened_on) filter (
            where tickets.opened_on > account_days.date_day - {{ var('payment_lookback_days') }}
        ) as tickets_90d,
        count(tickets.opened_on) filter (
            where tickets.opened_on > account_days.date_day - {{ var('payment_lookback_days') }}
            and tickets.is_high_severity
        ) as high_severity_tickets_90d
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
        (array_agg(
            nps.nps_score
            order by nps.submitted_at desc
        ))[1] as nps_latest
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
        bool_or(invoices.has_failed_payment) filter (
            where invoices.invoiced_on > account_days.date_day - {{ var('payment_lookback_days') }}
        ) as has_failed_payment,
        bool_or(invoices.is_uncollectible) filter (
            where invoices.invoiced_on > account_days.date_day - {{ var('payment_lookback_days') }}
        ) as has_uncollectible
    from account_days
    inner join invoices
        on account_days.company_id = invoices.company_id and account_days.date_day >= invoices.invoiced_on
    group by account_days.company_id, account_days.date_day

),

signals as (

    select
        account_days.company_id,
        account_days.date_day,
        case
            when account_days.users_invited > 0 then
                least(100, 100 * account_days.active_seat_ratio / {{ var('account_active_seat_ratio_target') }})
        end as active_seat_ratio,
        case
            when account_days.users_invited > 0 then
                least(100, 100 * account_days.feature_depth_30d / {{ var('account_feature_depth_target') }})
        end as feature_depth,
        greatest(0, least(100, 100 + 200 * account_days.usage_trend_28d)) as usage_trend,
        greatest(0, least(
            100,
            100 - 50 * (ticket_stats.recent_ticket_load / greatest(ticket_stats.norm_ticket_load, 1) - 1)
        )) as ticket_load,
        10 * nps_stats.nps_average as nps_level,
        case
            when contact_stats.has_unreplaced_departure then 0
            when contact_stats.company_id is not null then 40
            else 100
        end as champion_stability,
        case when seat_stats.company_id is not null then 30 else 100 end as seat_stability,
        case
            when payment_stats.company_id is null then null
            when payment_stats.has_uncollectible then 0
            when payment_stats.has_failed_payment then 40
            else 100
        end as payment_health,
        case
            when accounts.has_open_competitor_evaluation or accounts.csm_risk_flag = 'competitor' then 20 else 100
        end as competitive_pressure,
        10 * nps_stats.nps_latest as latest_nps,
        case
            when ticket_stats.tickets_90d > 0 then
                100 * (1 - ticket_stats.high_severity_tickets_90d::numeric / ticket_stats.tickets_90d)
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
        signals.company_id,
        signals.date_day,
        signal_values.signal,
        round(signal_values.signal_score::numeric, 2) as signal_score
    from signals
    cross join lateral (
        values
        ('active_seat_ratio', signals.active_seat_ratio),
        ('feature_depth', signals.feature_depth),
        ('usage_trend', signals.usage_trend),
        ('ticket_load', signals.ticket_load),
        ('nps_level', signals.nps_level),
        ('champion_stability', signals.champion_stability),
        ('seat_stability', signals.seat_stability),
        ('payment_health', signals.payment_health),
        ('competitive_pressure', signals.competitive_pressure),
        ('latest_nps', signals.latest_nps),
        ('ticket_escalation', signals.ticket_escalation)
    ) as signal_values (signal, signal_score)

),

final as (

    select
        md5(company_id || '|' || date_day::text || '|' || signal) as account_day_signal_id,
        company_id,
        date_day,
        signal,
        signal_score
    from unpivoted

)

select * from final
{{ daily_write_order() }}
