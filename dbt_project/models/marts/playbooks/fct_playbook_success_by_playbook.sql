-- Each playbook's success metric over all trigger months, against its target in seed
-- playbook_targets: triggers and successes add up over fct_playbook_success's months, and the
-- rate is recomputed from the sums.
with

success as (

    select * from {{ ref('fct_playbook_success') }}

),

targets as (

    select * from {{ ref('playbook_targets') }}

),

aggregated as (

    select
        playbook,
        sum(triggered) as triggered,
        sum(succeeded) as succeeded
    from success
    group by playbook

),

final as (

    select
        aggregated.playbook,
        targets.success_metric,
        aggregated.triggered::bigint as triggered,
        aggregated.succeeded::bigint as succeeded,
        round(aggregated.succeeded::numeric / nullif(aggregated.triggered, 0), 4) as success_rate,
        targets.target_rate,
        coalesce(aggregated.succeeded::numeric / nullif(aggregated.triggered, 0) >= targets.target_rate, false)
        as is_target_met
    from aggregated
    inner join targets on aggregated.playbook = targets.playbook

)

select * from final
