{# The text of a driver's value in a CRM reason (seed crm_reason_phrases.value_format);
   null when there is no value. `raw` is a text expression, `value_format` a text column. #}
{% macro reason_value(raw, value_format) -%}
    case
        when {{ raw }} is null then null
        when {{ value_format }} = 'percent' then round(100 * ({{ raw }})::numeric)::text || '%'
        when {{ value_format }} = 'signed_percent' then {{ signed("round(100 * (" ~ raw ~ ")::numeric)") }} || '%'
        when {{ value_format }} = 'log_signed_percent'
            then {{ signed("round(100 * (exp((" ~ raw ~ ")::numeric) - 1))") }} || '%'
        when {{ value_format }} = 'signed_points' then {{ signed("round(100 * (" ~ raw ~ ")::numeric)") }}
        when {{ value_format }} = 'number' then trim_scale(round(({{ raw }})::numeric, 1))::text
        when {{ value_format }} = 'signed_number' then {{ signed("trim_scale(round((" ~ raw ~ ")::numeric, 1))") }}
        when {{ value_format }} = 'integer' then round(({{ raw }})::numeric)::text
        when {{ value_format }} = 'multiple' then trim_scale(round(({{ raw }})::numeric, 1))::text || '×'
        when {{ value_format }} = 'money' then '$' || to_char(round(({{ raw }})::numeric), 'FM999,999,999,990')
        when {{ value_format }} = 'text' then replace({{ raw }}, '_', ' ')
        else {{ raw }}
    end
{%- endmacro %}

{% macro signed(number) -%}
    (case when {{ number }} > 0 then '+' else '' end || ({{ number }})::text)
{%- endmacro %}
