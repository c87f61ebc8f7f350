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
