-- Gross and net revenue retention by month, segment and cohort (and 'all' roll-ups): the
-- customers with ARR at the start of the window (retention_window_months before the
-- month) compared with their ARR at the month. ARR is read on the first day of both months
-- (the movement's opening MRR x 12): the month of as_of_date is not over, so its closing
-- MRR is partial, and one point in time keeps both ends of the window alike.
-- GRR = (start − churn − contraction) / start, capped at grr_cap;
-- NRR = (start − churn − contraction + expansion) / start.
with

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

first_month as (

    select min(month_start) as month_start from movements

),

months as (

    select distinct movements.month_start
    from movements
    cross join first_month
    where
        movements.month_start
        >= first_month.month_start + interval '{{ var("retention_window_months") }} months'

),

pairs as (

    select
        months.month_start,
        start_month.customer_id,
        start_month.segment,
        start_month.cohort_year,
        12 * start_month.previous_mrr_usd as starting_arr_usd,
        12 * coalesce(end_month.previous_mrr_usd, 0) as ending_arr_usd
    from months
    inner join movements as start_month
        on
            start_month.month_start
            = (months.month_start - interval '{{ var("retention_window_months") }} months')::date
            and start_month.previous_mrr_usd > 0
    left join movements as end_month
        on start_month.customer_id = end_month.customer_id and months.month_start = end_month.month_start

),

classified as (

    select
        month_start,
        segment,
        cohort_year,
        starting_arr_usd,
        case when ending_arr_usd = 0 then starting_arr_usd else 0 end as churned_arr_usd,
        case
            when ending_arr_usd > 0 and ending_arr_usd < starting_arr_usd
                then starting_arr_usd - ending_arr_usd
            else 0
        end as contraction_arr_usd,
        greatest(ending_arr_usd - starting_arr_usd, 0) as expansion_arr_usd,
        ending_arr_usd,
        (ending_arr_usd > 0)::integer as is_retained
    from pairs

),

aggregated as (

    select
        month_start,
        coalesce(segment, 'all') as segment,
        coalesce(cohort_year, 'all') as cohort_year,
        count(*) as starting_customers,
        sum(is_retained) as retained_customers,
        sum(starting_arr_usd) as starting_arr_usd,
        sum(churned_arr_usd) as churned_arr_usd,
        sum(contraction_arr_usd) as contraction_arr_usd,
        sum(expansion_arr_usd) as expansion_arr_usd,
        sum(ending_arr_usd) as ending_arr_usd
    from classified
    group by grouping sets ((month_start, segment, cohort_year), (month_start, segment), (month_start))

),

final as (

    select
        md5(month_start::text || '|' || segment || '|' || cohort_year) as retention_id,
        month_start,
        segment,
        cohort_year,
        {{ var('retention_window_months') }} as window_months,
        starting_customers,
        retained_customers,
        round(starting_arr_usd, 2) as starting_arr_usd,
        round(churned_arr_usd, 2) as churned_arr_usd,
        round(contraction_arr_usd, 2) as contraction_arr_usd,
        round(expansion_arr_usd, 2) as expansion_arr_usd,
        round(ending_arr_usd, 2) as ending_arr_usd,
        round(least(
            {{ var('grr_cap') }},
            (starting_arr_usd - churned_arr_usd - contraction_arr_usd) / nullif(starting_arr_usd, 0)
        ), 4) as gross_revenue_retention,
        round(
            (starting_arr_usd - churned_arr_usd - contraction_arr_usd + expansion_arr_usd)
            / nullif(starting_arr_usd, 0),
            4
        ) as net_revenue_retention
    from aggregated

)

select * from final
