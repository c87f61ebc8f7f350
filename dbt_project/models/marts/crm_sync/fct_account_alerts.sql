-- One row per business event a CS team is alerted to (reverse_etl/alerts.py sends each once to a
-- Slack-compatible webhook): an account whose health crossed into red, a renewal whose forecast
-- turned at_risk, a champion who left, a failed payment. Events dated in the last
-- alert_lookback_days days up to as_of_date are listed, so a day the sender missed or failed is
-- sent late rather than never; alert_id (event type, subject, event date) is the same in every
-- run, and the sender dedupes on it. Which events alert, their titles and the report page they
-- link to are seed crm_alert_rules. Accounts churned by as_of_date are left out.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_dates') }}
with

rules as (

    select * from {{ ref('crm_alert_rules') }}
    where is_enabled

),

accounts as (

    select * from {{ ref('dim_accounts') }}
    where coalesce(churned_date > {{ as_of_date() }}, true)

),

reasons as (

    select * from {{ ref('fct_account_reasons') }}

),

health as (

    -- One day more than the window: the day before its first day tells whether that day crossed.
    select * from {{ ref('fct_account_health_daily') }}
    where calendar_date between {{ as_of_date() }} - {{ var('alert_lookback_days') }} and {{ as_of_date() }}

),

renewal_scores as (

    select * from {{ ref('fct_renewal_risk_history') }}
    where as_of_date <= {{ as_of_date() }}

),

risk_events as (

    select * from {{ ref('int_account_risk_events_dated') }}
    where
        event_type in ('champion_left', 'payment_failed')
        and event_date between {{ as_of_date() }} - {{ var('alert_lookback_days') }} + 1 and {{ as_of_date() }}

),

health_days as (

    select
        company_id,
        calendar_date,
        health_score,
        health_band,
        lag(health_band) over (
            partition by company_id
            order by calendar_date
        ) as previous_band,
        lag(health_score) over (
            partition by company_id
            order by calendar_date
        ) as previous_score
    from health

),

turned_red as (

    -- The first red day after a day in another band (a day without a score does not count).
    select
        'health_red' as event_type,
        company_id as subject_id,
        company_id,
        calendar_date as event_date,
        -- Scores shown rounded down, as the band cut-offs read them (39.6 is red, not "40 (red)").
        'health ' || coalesce(floor(previous_score)::text, '?') || ' (' || previous_band || ') → '
        || floor(health_score)::text || ' (red)' as event_detail
    from health_days
    where
        health_band = 'red'
        and previous_band in ('green', 'yellow')
        and calendar_date > {{ as_of_date() }} - {{ var('alert_lookback_days') }}

),

renewal_days as (

    select
        contract_term_id,
        company_id,
        as_of_date,
        forecast_category,
        risk_score,
        contract_end_date,
        lag(forecast_category) over (
            partition by contract_term_id
            order by as_of_date
        ) as previous_category
    from renewal_scores

),

turned_at_risk as (

    -- The first scoring at_risk after one that was not (or the term's first scoring).
    select
        'renewal_at_risk' as event_type,
        contract_term_id as subject_id,
        company_id,
        as_of_date as event_date,
        'renewal on ' || contract_end_date::text || ' now at risk (risk ' || round(risk_score)::text
        || coalesce(', was ' || previous_category, '') || ')' as event_detail
    from renewal_days
    where
        forecast_category = 'at_risk'
        and previous_category is distinct from 'at_risk'
        and as_of_date > {{ as_of_date() }} - {{ var('alert_lookback_days') }}

),

dated_events as (

    select
        event_type,
        company_id as subject_id,
        company_id,
        event_date,
        case event_type
            when 'champion_left' then 'champion left on ' || event_date::text
            else 'payment failed on ' || event_date::text
        end as event_detail
    from risk_events
    group by event_type, company_id, event_date

),

events as (

    select * from turned_red
    union all
    select * from turned_at_risk
    union all
    select * from dated_events

),

final as (

    select
        md5(events.event_type || '|' || events.subject_id || '|' || events.event_date::text) as alert_id,
        {{ as_of_date() }} as as_of_date,
        events.event_type,
        events.event_date,
        events.company_id,
        accounts.company_name as account_name,
        accounts.arr_usd,
        accounts.owner_id,
        accounts.owner_name,
        rules.title as alert_title,
        events.event_detail,
        case
            when events.event_type = 'renewal_at_risk' then reasons.renewal_risk_reasons
            else reasons.health_reasons
        end as drivers,
        rules.report_page
    from events
    inner join rules on events.event_type = rules.event_type
    inner join accounts on events.company_id = accounts.company_id
    left join reasons on events.company_id = reasons.company_id

)

select * from final
