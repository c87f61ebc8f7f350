-- Adoption funnel of all segments per monthly invitation cohort: the users reaching each step
-- add up over fct_adoption_funnel's segments; conversion and drop-off are recomputed from the
-- sums, as in that mart.
with

funnel as (

    select * from {{ ref('fct_adoption_funnel') }}

),

steps as (

    select
        cohort_month,
        step_order,
        step_name,
        sum(users_reached) as users_reached
    from funnel
    group by cohort_month, step_order, step_name

),

final as (

    select
        md5(steps.cohort_month::text || '|' || steps.step_name) as funnel_step_id,
        steps.cohort_month,
        steps.step_order,
        steps.step_name,
        steps.users_reached::bigint as users_reached,
        round(
            steps.users_reached::numeric
            / nullif(lag(steps.users_reached) over by_step, 0), 4
        ) as conversion_from_previous,
        coalesce(lag(steps.users_reached) over by_step - steps.users_reached, 0)::bigint as dropped_off,
        round(steps.users_reached::numeric / nullif(first_value(steps.users_reached) over by_step, 0), 4)
        as conversion_from_invited
    from steps
    window by_step as (
        partition by steps.cohort_month
        order by steps.step_order
    )

)

select * from final
