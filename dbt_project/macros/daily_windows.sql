{#- The days each day-grain model covers, all ending at as_of_date (a var: Airflow passes the
    run's logical date, so any past day reproduces). -#}

{% macro as_of_date() -%}
    '{{ var("as_of_date") }}'::date
{%- endmacro %}

{% macro history_start_date() -%}
    ('{{ var("as_of_date") }}'::date - {{ var("daily_history_days") }} + 1)
{%- endmacro %}

{% macro padded_history_start_date() -%}
    {#- User-grain models start earlier: rolling 28-day-vs-previous-28-day counts and the 30-day
        feature mask need this padding before the first reported day. -#}
    ({{ history_start_date() }} - {{ var("lookback_padding_days") }})
{%- endmacro %}

{% macro health_history_start_date() -%}
    {#- Health signals start 30 days early so the mart reports 30-day changes from its first day. -#}
    ({{ history_start_date() }} - 30)
{%- endmacro %}

{% macro journey_history_start_date() -%}
    ('{{ var("as_of_date") }}'::date - {{ var("journey_history_days") }} + 1)
{%- endmacro %}

{#- Day-grain models are incremental: a daily run rebuilds only the days since the newest day
    already built, pulled back by `late_arrival_days` (late events, late CRM edits), and keeps
    every older day as it was computed. Each such model
      - is configured in dbt_project.yml (`&daily_incremental`): delete+insert keyed on
        the day column (`date_day`; `calendar_date` in marts, `daily_day_column`), so the rebuilt
        days replace theirs whole, an index on it for that
        delete, and a post-hook `daily_window_trim(<window start>)` that drops the days that
        slid out of the window (or lie after as_of_date after a backfill), so the table covers
        exactly the days a full refresh would;
      - reads its inputs from `daily_read_start(window, look-back)`: the look-back its windows
        need (lag, rolling sums) before the first rebuilt day;
      - keeps the output days `>= daily_build_start(window)`.
    Attributes that change history (an identity re-mapped to another company, a churn date
    moved back, a seed edited) reach the rebuilt days only: run `dbt build --full-refresh`
    after such a change (docs/DBT.md). -#}

{% macro daily_build_start(window_start) -%}
    {%- if is_incremental() -%}
        {%- set first_rebuilt_day -%}
            select
                case
                    -- Empty, or a backfill to an earlier day whose window starts before the
                    -- table does: rebuild the whole window.
                    when coalesce(min(built.{{ daily_day_column() }}) > {{ window_start }}, true) then {{ window_start }}
                    else greatest(
                        {{ window_start }},
                        least(max(built.{{ daily_day_column() }}) + 1, {{ as_of_date() }} - {{ var('late_arrival_days') }})
                    )
                end
            from {{ this }} as built
        {%- endset -%}
        {{ inlined_date(first_rebuilt_day) }}
    {%- else -%}
        {{ window_start }}
    {%- endif -%}
{%- endmacro %}

{% macro inlined_date(query) -%}
    {#- A one-value date query, asked once before the model's SQL runs and inlined as a date:
        with a constant the planner reads the few rebuilt days through the date indexes, where
        a subquery's unknown value made it scan every day of a 35 M-row table (and every event
        in int_user_days_aggregated). A unit test's `this` is a CTE of its given rows: there
        the subquery stays. -#}
    {%- if execute and model.resource_type != 'unit_test' -%}
        '{{ run_query(query).columns[0].values()[0] }}'::date
    {%- else -%}
        ({{ query }})
    {%- endif -%}
{%- endmacro %}

{% macro daily_read_start(window_start, lookback_days) -%}
    {#- A full build reads from its window start: the model's own padding is part of its window. -#}
    {%- if is_incremental() -%}
        ({{ daily_build_start(window_start) }} - {{ lookback_days }})
    {%- else -%}
        {{ window_start }}
    {%- endif -%}
{%- endmacro %}

{% macro daily_day_column() -%}
    {#- The day column of a day-grain model: `date_day` in intermediate models, `calendar_date`
        (the key into dim_dates) in marts, whose dates all end in `_date`. -#}
    {%- if model is defined and model.original_file_path.startswith('models/marts/') -%}calendar_date{%- else -%}date_day{%- endif -%}
{%- endmacro %}

{% macro daily_window_trim(window_start) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ daily_day_column() }} < {{ window_start }} or {{ daily_day_column() }} > {{ as_of_date() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro daily_write_order() -%}
    {#- A full build writes its rows in day order, so each day sits in its own run of pages. A
        daily run then deletes, rewrites and trims whole days, and downstream models read the
        rebuilt days through the day index, touching only those pages. Written in the
        order the windows leave them (by user), one day's rows lay on nearly every page: at
        2,000 accounts reading 4 days of fct_user_adoption_daily touched 48,371 pages for
        48,948 rows, and deleting a day dirtied (and wrote to WAL) as many. -#}
    {%- if not is_incremental() -%}
        order by {{ daily_day_column() }}
    {%- endif -%}
{%- endmacro %}

{% macro daily_rebuilt_days(build_start, max_days=14) -%}
    {#- The days an incremental run rebuilds, comma-separated ISO dates, when `daily_build_start`
        was inlined as a date (an incremental run, not a unit test) and there are at most
        `max_days` of them; otherwise nothing (the model keeps its general path). Lets a model
        spell out one set of aggregates per rebuilt day. (Rendered text, not `return`: the
        models are linted with plain Jinja.) -#}
    {%- if is_incremental() and (build_start | string).startswith("'") -%}
        {%- set first = modules.datetime.date.fromisoformat((build_start | string).split("'")[1]) -%}
        {%- set last = modules.datetime.date.fromisoformat(var('as_of_date') | string) -%}
        {%- set n = (last - first).days + 1 -%}
        {%- if n > 0 and n <= max_days -%}
            {%- for i in range(n) -%}
                {{ (first + modules.datetime.timedelta(days=i)).isoformat() }}{{ "," if not loop.last }}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro events_first_rebuilt_day(date_column) -%}
    {#- Models over the whole event history (int_user_days_aggregated, int_account_activity_daily):
        a full build starts at var events_start_date; an incremental run at the newest day
        already built minus `late_arrival_days`, so late events are picked up and older days are
        never rescanned. -#}
    {%- if is_incremental() -%}
        {%- set newest_rebuilt_from -%}
            select
                coalesce(max(already_built.{{ date_column }}), '{{ var("events_start_date") }}'::date)
                - {{ var('late_arrival_days') }}
            from {{ this }} as already_built
        {%- endset -%}
        {{ inlined_date(newest_rebuilt_from) }}
    {%- else -%}
        '{{ var("events_start_date") }}'::date
    {%- endif -%}
{%- endmacro %}
