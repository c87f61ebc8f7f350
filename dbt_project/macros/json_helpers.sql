{#- Small helpers for flattening vendor JSON in staging models. -#}

{% macro hs_prop(name, type='text') -%}
    nullif(record -> 'properties' ->> '{{ name }}', '')::{{ type }}
{%- endmacro %}

{% macro epoch_to_ts(expr) -%}
    to_timestamp(nullif({{ expr }}, '')::double precision)
{%- endmacro %}
