-- Gross and net revenue retention by month, segment and cohort year (all customers per month:
-- fct_revenue_retention_by_month): the customers with ARR at the start of the window
-- (retention_window_months before the month) compared with their ARR at the month. ARR is read on the first day of both months
-- (the movement's opening MRR x 12): the month of as_of_date is not over, so its closing
-- MRR is partial, and one point in time keeps both ends of the window alike.
-- GRR = (start − churn − contraction) / start, capped at grr_cap;
-- NRR = (start − churn − contraction + expansion) / start.
with

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

first_month as (

    select min(calendar_month) as calendar_month from movements

),

months as (

    select distinct movements.calendar_month
    from movements
    cross join first_month
    where
        movements.calendar_month
        >= first_month.calendar_month + interval '{{ var("retention_window_months") }} months'

),

pairs as (

    select
        months.calendar_month,
        start_month.customer_id,
        start_month.segment,
        start_month.cohort_year,
        12 * start_month.previous_mrr_usd as starting_arr_usd,
        12 * coalesce(end_month.previous_mrr_usd, 0) as ending_arr_usd
    from months
    inner join movements as start_month
        on
            start_month.calendar_month
            = (months.calendar_month - interval '{{ var("retention_window_months") }} months')::date
            and start_month.previous_mrr_usd > 0
    left join movements as end_month
        on start_month.customer_id = end_month.customer_id and months.calendar_month = end_month.calendar_month

),

classified as (

    select
        calendar_month,
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
        calendar_month,
        segment,
        cohort_year,
        count(*) as starting_customers,
        sum(is_retained) as retained_customers,
        sum(starting_arr_usd) as starting_arr_usd,
        sum(churned_arr_usd) as churned_arr_usd,
        sum(contraction_arr_usd) as contraction_arr_usd,
        sum(expansion_arr_usd) as expansion_arr_usd,
        sum(ending_arr_usd) as ending_arr_usd
    from classified
    group by calendar_month, segment, cohort_year

),

final as (

    select
        md5(calendar_month::text || '|' || segment || '|' || cohort_year::text) as retention_id,
        calendar_month,
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
        {{ retention_rates() }}
    from aggregated

)

select * from final
