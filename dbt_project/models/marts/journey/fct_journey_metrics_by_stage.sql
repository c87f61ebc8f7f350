-- Journey health of all accounts per stage: the metrics of fct_journey_metrics over every
-- segment and cohort. Medians and the top trigger do not add up from that mart's rows, so
-- this aggregates the same episodes (the accounts with a lifecycle) itself.
with

journey_transitions as (

    select * from {{ ref('fct_journey_transitions') }}

),

lifecycles as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

episodes as (

    select journey_transitions.*
    from journey_transitions
    inner join lifecycles
        on journey_transitions.company_id = lifecycles.company_id

),

aggregated as (

    select
        stage,
        {{ journey_episode_aggregates() }}
    from episodes
    group by stage

),

final as (

    select
        aggregated.stage,
        {{ journey_metric_columns('aggregated') }}
    from aggregated

)

select * from final
