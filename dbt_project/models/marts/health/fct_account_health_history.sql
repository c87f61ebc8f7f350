{%- if is_incremental() -%}
    {%- set newest_kept -%}
        -- A run rewrites the late-arrival days before as_of_date, as fct_account_health_daily
        -- just rebuilt them; a backfill to a day the table has passed rewrites none of them.
        select
            case
                when coalesce(max(kept.calendar_date) > {{ as_of_date() }}, false) then {{ as_of_date() }} + 1
                else {{ as_of_date() }} - {{ var('late_arrival_days') }}
            end
        from {{ this }} as kept
    {%- endset -%}
    {%- set rewrite_start = inlined_date(newest_kept) -%}
{%- endif %}
-- One row per account and day as the score was computed on that day, kept for
-- var score_history_days days (fct_account_health_daily keeps daily_history_days): each run
-- copies the days of the daily mart this table does not have yet, and rewrites the
-- late-arrival days the daily run just rebuilt. Older days keep the score they were given, so
-- back-tests read the scores as they were known. Trimmed at score_history_days by a post-hook.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
with

health_daily as (

    select * from {{ ref('fct_account_health_daily') }}
    where
        calendar_date <= {{ as_of_date() }}
        and calendar_date > {{ as_of_date() }} - {{ var('score_history_days') }}

),

{% if is_incremental() %}
    kept_days as (

        select distinct calendar_date from {{ this }}

    ),
{% endif %}

new_days as (

    select health_daily.*
    from health_daily
    {% if is_incremental() %}
        where
            health_daily.calendar_date >= {{ rewrite_start }}
            or health_daily.calendar_date not in (select kept_days.calendar_date from kept_days)
    {% endif %}

),

final as (

    select
        account_day_id,
        company_id,
        calendar_date,
        health_score,
        health_band,
        components_used,
        signal_coverage,
        usage_score,
        relationship_score,
        business_context_score,
        sentiment_score,
        top_drivers,
        score_change_7d,
        score_change_30d,
        {{ as_of_date() }} as scored_as_of_date
    from new_days

)

select * from final
{{ daily_write_order() }}
