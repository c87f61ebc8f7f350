{#- A source the pipeline itself writes after dbt's first run (the fitted renewal-risk model):
    until the table exists, an empty relation of the given columns ({name: type}) stands in. -#}
{% macro source_if_exists(source_name, table_name, columns) -%}
    {%- set src = source(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(database=src.database, schema=src.schema, identifier=src.identifier)
        if execute else none -%}
    {%- if relation is not none -%}
        select * from {{ src }}
    {%- else -%}
        select
        {%- for name, type in columns.items() %}
            null::{{ type }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- endif -%}
{%- endmacro %}
