-- Journey health by segment and start-year cohort (with 'all' roll-ups) and stage over the journey history window:
-- episodes entered, completion rate (share of finished episodes that moved on), velocity
-- (mean and median days in stage of completed episodes with an observed entry), regression
-- rate (share of finished episodes that moved backwards), regressions into the stage with
-- the most frequent trigger, and episodes that ended in churn (failure modes).
with

journey_transitions as (

    select * from {{ ref('fct_journey_transitions') }}

),

lifecycles as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

episodes as (

    select
        journey_transitions.*,
        to_char(lifecycles.started_on, 'YYYY') as cohort_year
    from journey_transitions
    inner join lifecycles
        on journey_transitions.company_id = lifecycles.company_id

),

by_segment as (

    select
        coalesce(segment, 'all') as segment,
        coalesce(cohort_year, 'all') as cohort_year,
        stage,
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
    from episodes
    group by grouping sets ((segment, cohort_year, stage), (segment, stage), (cohort_year, stage), (stage))

),

final as (

    select
        md5(segment || '|' || cohort_year || '|' || stage) as journey_metric_id,
        segment,
        cohort_year,
        stage,
        episodes,
        finished_episodes,
        completed_episodes,
        regressed_episodes,
        churned_episodes,
        regression_entries,
        round(completed_episodes::numeric / nullif(finished_episodes, 0), 4) as completion_rate,
        round(regressed_episodes::numeric / nullif(finished_episodes, 0), 4) as regression_rate,
        velocity_mean_days,
        velocity_median_days::numeric as velocity_median_days,
        velocity_fastest_days,
        velocity_slowest_days,
        top_regression_trigger
    from by_segment

)

select * from final
