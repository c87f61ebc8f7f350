{#- Data tests on the day-grain tables and the events check, on an incremental run, only the days
    that run rebuilt (from as_of_date minus `late_arrival_days`): older days were tested when
    they were built and an incremental run leaves them as they were, so re-testing tens of
    millions of rows every day would cost more than the build itself. A `--full-refresh` run,
    or `--vars '{test_all_days: true}'`, tests every row. A test's own `where` config is kept.
    Overrides dbt's macro of the same name (dbt docs: "where" test config, custom logic). -#}

{% macro incrementally_tested_relations() -%}
    {#- Relation name → the column that dates its rows. -#}
    {%- do return({
        "mixpanel__events": "_cursor",
        "stg_mixpanel__events": "cursor_at",
        "int_user_days_aggregated": "activity_date",
        "int_user_days_spined": "date_day",
        "int_account_usage_daily": "date_day",
        "int_account_health_signals_daily": "date_day",
        "fct_user_adoption_daily": "calendar_date",
        "fct_account_adoption_daily": "calendar_date",
        "fct_account_health_daily": "calendar_date",
        "fct_journey_stage_daily": "calendar_date",
    }) -%}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set day_column = incrementally_tested_relations().get(relation.identifier) -%}
    {%- set recent_only = day_column and not flags.FULL_REFRESH and not var('test_all_days', false) -%}
    {%- if recent_only -%}
        {%- set recent = day_column ~ " >= " ~ as_of_date() ~ " - " ~ var('late_arrival_days') -%}
        {%- set where = "(" ~ where ~ ") and " ~ recent if where else recent -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
