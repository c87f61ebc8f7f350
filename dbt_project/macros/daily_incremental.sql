{#- Day-grain models are incremental: a daily run rebuilds only the days since the newest day
    already built, pulled back by `late_arrival_days` (late events, late CRM edits), and keeps
    every older day as it was computed. Each such model
      - is configured with `daily_incremental_config('<window macro>')`: delete+insert keyed on
        `date_day`, so the rebuilt days replace theirs whole, an index on `date_day` for that
        delete, and a post-hook that drops the days that slid out of the window (or lie after
        as_of_date after a backfill), so the table covers exactly the days a full refresh would;
      - reads its inputs from `daily_read_start(window, look-back)`: the look-back its windows
        need (lag, rolling sums) before the first rebuilt day;
      - keeps the output days `>= daily_build_start(window)`.
    Attributes that change history (an identity re-mapped to another company, a churn date
    moved back, a seed edited) reach the rebuilt days only: run `dbt build --full-refresh`
    after such a change (docs/DBT.md). -#}

{% macro daily_incremental_config(window_macro) -%}
    {#- `window_macro` names the macro giving the model's first day (daily_windows.sql). -#}
    {%- do return({
        "materialized": "incremental",
        "incremental_strategy": "delete+insert",
        "unique_key": "date_day",
        "on_schema_change": "append_new_columns",
        "indexes": [{"columns": ["date_day"]}],
        "post_hook": ["{{ daily_window_trim(" ~ window_macro ~ "()) }}"],
    }) -%}
{%- endmacro %}

{% macro daily_build_start(window_start) -%}
    {%- if is_incremental() -%}
        (
            select
                case
                    -- Empty, or a backfill to an earlier day whose window starts before the
                    -- table does: rebuild the whole window.
                    when coalesce(min(built.date_day) > {{ window_start }}, true) then {{ window_start }}
                    else greatest(
                        {{ window_start }},
                        least(max(built.date_day) + 1, {{ as_of_date() }} - {{ var('late_arrival_days') }})
                    )
                end
            from {{ this }} as built
        )
    {%- else -%}
        {{ window_start }}
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

{% macro daily_window_trim(window_start) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where date_day < {{ window_start }} or date_day > {{ as_of_date() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
