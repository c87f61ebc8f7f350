-- Journey health by segment, start-year cohort and stage over the journey history window
-- (all accounts per stage: fct_journey_metrics_by_stage): episodes entered, completion rate
-- (share of finished episodes that moved on), velocity (mean and median days in stage of
-- completed episodes with an observed entry), regression rate (share of finished episodes
-- that moved backwards), regressions into the stage with the most frequent trigger, and
-- episodes that ended in churn (failure modes). Aggregates: macros/journey_metrics.sql.
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
        extract(year from lifecycles.started_on)::integer as cohort_year
    from journey_transitions
    inner join lifecycles
        on journey_transitions.company_id = lifecycles.company_id

),

aggregated as (

    select
        segment,
        cohort_year,
        stage,
        {{ journey_episode_aggregates() }}
    from episodes
    group by segment, cohort_year, stage

),

final as (

    select
        md5(aggregated.segment || '|' || aggregated.cohort_year::text || '|' || aggregated.stage) as journey_metric_id,
        aggregated.segment,
        aggregated.cohort_year,
        aggregated.stage,
        {{ journey_metric_columns('aggregated') }}
    from aggregated

)

select * from final
