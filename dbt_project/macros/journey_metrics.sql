{#- The journey metrics of a group of stage episodes (fct_journey_transitions rows): counts,
    completion and regression rates, velocity (mean, median, fastest and slowest days in stage
    of completed episodes with an observed entry) and the most frequent regression trigger.
    fct_journey_metrics groups by segment × cohort year × stage, fct_journey_metrics_by_stage
    by stage: medians and modes do not add up, so each mart aggregates the episodes itself. -#}

{% macro journey_episode_aggregates() -%}
    count(*) as episodes,
    count(*) filter (where exit_type != 'ongoing') as finished_episodes,
    count(*) filter (where exit_type in ('progressed', 'completed')) as completed_episodes,
    count(*) filter (where exit_type = 'regressed') as regressed_episodes,
    count(*) filter (where exit_type = 'churned') as churned_episodes,
    count(*) filter (where is_regression) as regression_entries,
    round(avg(days_in_stage) filter (
        where exit_type in ('progressed', 'completed') and is_entry_observed
    ), 1) as velocity_mean_days,
    percentile_cont(0.5) within group (
        order by days_in_stage) filter (
        where exit_type in ('progressed', 'completed') and is_entry_observed
    ) as velocity_median_days,
    min(days_in_stage) filter (
        where exit_type in ('progressed', 'completed') and is_entry_observed
    ) as velocity_fastest_days,
    max(days_in_stage) filter (
        where exit_type in ('progressed', 'completed') and is_entry_observed
    ) as velocity_slowest_days,
    mode() within group (
        order by regression_trigger
    ) filter (where is_regression) as top_regression_trigger
{%- endmacro %}

{% macro journey_metric_columns(relation) -%}
    {{ relation }}.episodes,
    {{ relation }}.finished_episodes,
    {{ relation }}.completed_episodes,
    {{ relation }}.regressed_episodes,
    {{ relation }}.churned_episodes,
    {{ relation }}.regression_entries,
    round({{ relation }}.completed_episodes::numeric / nullif({{ relation }}.finished_episodes, 0), 4)
    as completion_rate,
    round({{ relation }}.regressed_episodes::numeric / nullif({{ relation }}.finished_episodes, 0), 4)
    as regression_rate,
    {{ relation }}.velocity_mean_days,
    {{ relation }}.velocity_median_days::numeric as velocity_median_days,
    {{ relation }}.velocity_fastest_days,
    {{ relation }}.velocity_slowest_days,
    {{ relation }}.top_regression_trigger
{%- endmacro %}
