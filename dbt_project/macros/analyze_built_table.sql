{#- `analyze` the table a model just wrote, as a post-hook. dbt creates tables with
    `create table as` and rewrites incremental days with delete+insert; PostgreSQL collects
    statistics only when autovacuum gets round to it, while the next model reads the table at
    once. Without statistics the planner takes a third of the rows for any range on
    `date_day`: the window trim then scanned a whole 4 M-row table (2,000 accounts: 3.1 s;
    0.66 s through the index once analyzed), and downstream reads of a few rebuilt days
    chose sequential scans. `analyze` samples a fixed 30,000 rows, so it costs about the same
    on every run (1-2 s on the largest tables at 2,000 accounts). -#}

{% macro analyze_built_table() -%}
    analyze {{ this }}
{%- endmacro %}
