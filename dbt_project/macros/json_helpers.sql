{#- Small helpers for flattening vendor JSON in staging models. -#}

{% macro hs_prop(name, type='text') -%}
    nullif(record -> 'properties' ->> '{{ name }}', '')::{{ type }}
{%- endmacro %}

{% macro epoch_to_ts(expr) -%}
    to_timestamp(nullif({{ expr }}, '')::double precision)
{%- endmacro %}

{% macro as_of_date() -%}
    '{{ var("as_of_date") }}'::date
{%- endmacro %}

{% macro history_start_date() -%}
    ('{{ var("as_of_date") }}'::date - {{ var("daily_history_days") }} + 1)
{%- endmacro %}
