{%- set build_start = daily_build_start(history_start_date()) %}
-- One row per account and day over the history window: health score 0–100, its component
-- scores, how many components had data (a component without data is excluded and the
-- weights of the others renormalised, never read as zero), band, top drivers (the lowest
-- signals) and the 7- and 30-day change (an incremental run reads the 30 settled days before
-- the rebuilt ones from this table).
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
with

signals as (

    select * from {{ ref('int_account_health_signals_daily') }}
    {% if is_incremental() %}
        where date_day >= {{ build_start }}
    {% endif %}

),

{% if is_incremental() %}
    settled_scores as (

        -- The 7- and 30-day changes need the scores of the 30 days before the first rebuilt day.
        -- Those days are settled: their stored scores (already rounded as the change rounds them)
        -- are read back instead of re-scoring 30 days of signals on every run.
        select
            company_id,
            calendar_date as date_day,
            health_score
        from {{ this }}
        where calendar_date >= {{ build_start }} - 30 and calendar_date < {{ build_start }}

    ),
{% endif %}

signal_weights as (

    select * from {{ ref('health_score_signals') }}

),

component_weights as (

    select * from {{ ref('health_score_components') }}

),

components as (

    select
        signals.company_id,
        signals.date_day,
        signal_weights.component,
        sum(signal_weights.weight * signals.signal_score)
        / nullif(sum(signal_weights.weight) filter (where signals.signal_score is not null), 0) as component_score,
        -- Share of the component's signal weight that had data.
        coalesce(sum(signal_weights.weight) filter (where signals.signal_score is not null), 0)
        / nullif(sum(signal_weights.weight), 0) as component_coverage
    from signals
    inner join signal_weights on signals.signal = signal_weights.signal
    group by signals.company_id, signals.date_day, signal_weights.component

),

scored as (

    select
        components.company_id,
        components.date_day,
        sum(component_weights.weight * components.component_score)
        / nullif(sum(component_weights.weight) filter (where components.component_score is not null), 0)
        as health_score,
        count(components.component_score) as components_used,
        sum(component_weights.weight * components.component_coverage) / nullif(sum(component_weights.weight), 0)
        as signal_coverage,
        max(components.component_score) filter (where components.component = 'usage') as usage_score,
        max(components.component_score) filter (where components.component = 'relationship') as relationship_score,
        max(components.component_score) filter (where components.component = 'business_context')
        as business_context_score,
        max(components.component_score) filter (where components.component = 'sentiment') as sentiment_score
    from components
    inner join component_weights on components.component = component_weights.component
    group by components.company_id, components.date_day

),

drivers as (

    select
        ranked.company_id,
        ranked.date_day,
        string_agg(
            ranked.signal || ' ' || round(ranked.signal_score)::text, ', '
            order by ranked.driver_rank
        )
        as top_drivers
    from (
        select
            company_id,
            date_day,
            signal,
            signal_score,
            row_number() over (
                partition by company_id, date_day
                order by signal_score asc, signal asc
            ) as driver_rank
        from signals
        where signal_score is not null and signal_score < {{ var('health_green_min') }}
    ) as ranked
    where ranked.driver_rank <= {{ var('health_top_drivers') }}
    group by ranked.company_id, ranked.date_day

),

score_history as (

    select
        company_id,
        date_day,
        health_score
    from scored
    {% if is_incremental() %}
        union all
        select * from settled_scores
    {% endif %}

),

changes as (

    select
        company_id,
        date_day,
        round(health_score, 1) - round(lag(health_score, 7) over by_day, 1) as score_change_7d,
        round(health_score, 1) - round(lag(health_score, 30) over by_day, 1) as score_change_30d,
        lag(date_day, 30) over by_day as date_30d_before
    from score_history
    window by_day as (
        partition by company_id
        order by date_day
    )

),

final as (

    select
        md5(scored.company_id || '|' || scored.date_day::text) as account_day_id,
        scored.company_id,
        scored.date_day as calendar_date,
        round(scored.health_score, 1) as health_score,
        case
            when scored.health_score is null then 'unknown'
            when round(scored.health_score, 1) >= {{ var('health_green_min') }} then 'green'
            when round(scored.health_score, 1) >= {{ var('health_yellow_min') }} then 'yellow'
            else 'red'
        end as health_band,
        scored.components_used::integer as components_used,
        round(coalesce(scored.signal_coverage, 0), 3) as signal_coverage,
        round(scored.usage_score, 1) as usage_score,
        round(scored.relationship_score, 1) as relationship_score,
        round(scored.business_context_score, 1) as business_context_score,
        round(scored.sentiment_score, 1) as sentiment_score,
        coalesce(drivers.top_drivers, '') as top_drivers,
        changes.score_change_7d,
        -- Only a full 30-day look-back counts (gaps in history leave it null).
        case when changes.date_30d_before = changes.date_day - 30 then changes.score_change_30d end
        as score_change_30d
    from scored
    inner join changes on scored.company_id = changes.company_id and scored.date_day = changes.date_day
    left join drivers on scored.company_id = drivers.company_id and scored.date_day = drivers.date_day
    where scored.date_day >= {{ build_start }}

)

select * from final
{{ daily_write_order() }}
