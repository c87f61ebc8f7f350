{% macro require_built_columns(columns) -%}
    {#- An incremental model whose table predates columns it now stores for every row stops with
        one line saying how to rebuild it, rather than leave the existing rows without them
        (and without the indexes a rebuild creates). -#}
    {%- if execute and is_incremental() and model.resource_type != 'unit_test' -%}
        {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- set missing = columns | reject('in', built) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                this.identifier ~ " was built before it stored " ~ missing | join(", ")
                ~ ": rebuild it once with `dbt build --full-refresh --select " ~ this.identifier ~ "+`"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
