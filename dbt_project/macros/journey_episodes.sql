{#- fct_journey_transitions is incremental by episode (docs/DBT.md). fct_journey_stage_daily
    rebuilds only its days from `late_arrival_days` before the newest day built, so on a daily
    run every day before the cut day below is as it was when the episodes were last stored:
    an episode that ended (with its next day) before it, and began after the account's first
    day, is kept unless its trigger or churn exit can change. -#}

{% macro journey_episode_cut_day() -%}
    {#- The first day whose episodes are re-derived: `late_arrival_days` + 1 before the newest
        stored episode day (the last as_of_date built), as a date literal. Empty: build every
        episode (a full refresh, an empty table, a backfill to an earlier as_of_date, a unit
        test, parsing). -#}
    {#- (A unit test without a given `this` cannot even ask is_incremental().) -#}
    {%- if execute and model.resource_type != 'unit_test' and is_incremental() -%}
        {%- set cut_day_sql -%}
            select (max(entered_date + days_in_stage - 1) - {{ var('late_arrival_days') }} - 1)::text
            from {{ this }}
            having max(entered_date + days_in_stage - 1) <= {{ as_of_date() }}
        {%- endset -%}
        {%- set rows = run_query(cut_day_sql).rows -%}
        {%- if rows | length > 0 and rows[0][0] is not none -%}
            '{{ rows[0][0] }}'::date
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {#- The model's SQL returns the whole table (kept and re-derived rows): delete the stored
        rows that differ from it, by their unique key, then insert the rows not stored as they
        are. The table ends equal to the model's rows; only the changed rows are written. -#}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ key }} in (
        select changed.{{ key }}
        from (
            select {{ columns }} from {{ target }}
            except
            select {{ columns }} from {{ source }}
        ) as changed
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
    except
    select {{ columns }} from {{ target }};
{%- endmacro %}
