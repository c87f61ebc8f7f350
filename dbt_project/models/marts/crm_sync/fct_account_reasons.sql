-- One row per account on as_of_date: why its health score and its renewal risk are what they
-- are, as the short phrases a CSM reads on the CRM record (at most crm_reasons_max each, seed
-- crm_reason_phrases words every driver code with its number or date), how much of the health
-- score had data, and the band the account was in before its current health band with the day
-- that band began. It describes the drivers the health and renewal marts computed, never
-- ranks them anew; reading marts makes it a mart (built with mart_crm_sync, after fct_renewals).
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

phrases as (

    select * from {{ ref('crm_reason_phrases') }}

),

health as (

    select * from {{ ref('fct_account_health_daily') }}
    where calendar_date = {{ as_of_date() }}

),

signals as (

    select * from {{ ref('int_account_health_signals_daily') }}
    where date_day = {{ as_of_date() }}

),

renewals as (

    select * from {{ ref('fct_renewals') }}

),

features as (

    select * from {{ ref('int_renewal_features_derived') }}
    where not is_training

),

key_contact_changes as (

    select * from {{ ref('int_champion_changes_detected') }}

),

health_history as (

    select * from {{ ref('fct_account_health_history') }}
    where calendar_date <= {{ as_of_date() }}

),

departures as (

    -- The latest key-contact departure: the one a champion driver is about (each driver's
    -- look-back only holds departures up to as_of_date).
    select
        company_id,
        max(left_company_on) as champion_left_on
    from key_contact_changes
    where left_company_on <= {{ as_of_date() }}
    group by company_id

),

health_context as (

    -- The values a health phrase may name: every signal's raw value, and the CRM facts behind two.
    select
        signals.company_id,
        jsonb_object_agg(signals.signal, signals.signal_value)
        || jsonb_build_object(
            'champion_left_on', max(departures.champion_left_on),
            'csm_risk_flag', max(accounts.csm_risk_flag)
        ) as context
    from signals
    left join departures on signals.company_id = departures.company_id
    left join accounts on signals.company_id = accounts.company_id
    group by signals.company_id

),

renewal_context as (

    -- The values a renewal phrase may name: the scoring row's features, then the mart's own
    -- columns (they win where both have a name), and the latest departure.
    select
        renewals.company_id,
        coalesce(to_jsonb(features), '{}'::jsonb)  -- noqa: RF02
        || to_jsonb(renewals)  -- noqa: RF02
        || jsonb_build_object('champion_left_on', departures.champion_left_on) as context
    from renewals
    left join features on renewals.contract_term_id = features.contract_term_id
    left join departures on renewals.company_id = departures.company_id

),

drivers as (

    -- top_drivers lists "signal score" items, lowest score first.
    select
        health.company_id,
        'health' as reason_group,
        'health' as driver_kind,
        split_part(driver.item, ' ', 1) as driver_code,
        driver.driver_rank::integer as driver_rank
    from health
    cross join
        lateral unnest(string_to_array(nullif(health.top_drivers, ''), ', '))
        with ordinality as driver (item, driver_rank)

    union all

    -- risk_drivers lists rule drivers or, once a model is fitted, its features, strongest first.
    select
        renewals.company_id,
        'renewal' as reason_group,
        case when renewals.risk_method = 'fitted' then 'renewal_feature' else 'renewal_rule' end as driver_kind,
        driver.item as driver_code,
        driver.driver_rank::integer as driver_rank
    from renewals
    cross join
        lateral unnest(string_to_array(nullif(renewals.risk_drivers, ''), ', '))
        with ordinality as driver (item, driver_rank)

    union all

    -- A churn already decided leads whatever the model says (fct_renewals scores it 100).
    select
        renewals.company_id,
        'renewal' as reason_group,
        'renewal_rule' as driver_kind,
        decided.driver_code,
        0 as driver_rank
    from renewals
    cross join
        lateral (
            values
            ('cancellation_scheduled', renewals.is_cancellation_scheduled),
            ('renewal_deal_lost', renewals.is_renewal_deal_lost)
        ) as decided (driver_code, is_set)
    where decided.is_set

),

driver_values as (

    select
        drivers.company_id,
        drivers.reason_group,
        drivers.driver_code,
        drivers.driver_rank,
        phrases.phrase,
        phrases.value_format,
        phrases.fallback_phrase,
        coalesce(health_context.context, renewal_context.context) ->> phrases.value_key as value_raw
    from drivers
    left join phrases
        on drivers.driver_kind = phrases.driver_kind and drivers.driver_code = phrases.driver_code
    left join health_context
        on drivers.company_id = health_context.company_id and drivers.reason_group = 'health'
    left join renewal_context
        on drivers.company_id = renewal_context.company_id and drivers.reason_group = 'renewal'

),

formatted as (

    select
        driver_values.*,
        {{ reason_value("value_raw", "value_format") }} as value_text
    from driver_values

),

described as (

    select
        company_id,
        reason_group,
        driver_rank,
        case
            -- A code without a phrase still reads better than nothing.
            when phrase is null then replace(driver_code, '_', ' ')
            when position('{value}' in phrase) = 0 then phrase
            when value_text is not null then replace(phrase, '{value}', value_text)
            else coalesce(fallback_phrase, replace(driver_code, '_', ' '))
        end as reason
    from formatted

),

ranked as (

    -- The same phrase twice (a decided churn also listed by the rules) counts once.
    select
        company_id,
        reason_group,
        reason,
        row_number() over (
            partition by company_id, reason_group
            order by min(driver_rank), reason
        ) as reason_rank
    from described
    group by company_id, reason_group, reason

),

reasons as (

    select
        company_id,
        string_agg(
            reason, '; '
            order by reason_rank
        ) filter (where reason_group = 'health'
        ) as health_reasons,
        string_agg(
            reason, '; '
            order by reason_rank
        ) filter (where reason_group = 'renewal'
        ) as renewal_risk_reasons
    from ranked
    where reason_rank <= {{ var('crm_reasons_max') }}
    group by company_id

),

band_days as (

    select
        company_id,
        calendar_date,
        health_band,
        lag(health_band) over (
            partition by company_id
            order by calendar_date
        ) as band_before
    from health_history

),

band_changes as (

    -- The latest change of band: the band before it, and the day the current band began.
    select distinct on (company_id)
        company_id,
        band_before as previous_health_band,
        calendar_date as health_band_changed_date
    from band_days
    where band_before != health_band
    order by company_id asc, calendar_date desc

),

final as (

    select
        accounts.company_id,
        {{ as_of_date() }} as as_of_date,
        reasons.health_reasons,
        reasons.renewal_risk_reasons,
        health.signal_coverage as health_signal_coverage,
        health.components_used as health_components_used,
        band_changes.previous_health_band,
        band_changes.health_band_changed_date
    from accounts
    left join reasons on accounts.company_id = reasons.company_id
    left join health on accounts.company_id = health.company_id
    -- Only for an account scored today: its latest change then leads into today's band.
    left join band_changes on health.company_id = band_changes.company_id

)

select * from final
