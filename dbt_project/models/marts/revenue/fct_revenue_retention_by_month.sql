-- Gross and net revenue retention of all customers per month: the headline GRR and NRR.
-- The ARR figures are sums, so they add up from fct_revenue_retention's month × segment ×
-- cohort rows; the ratios are recomputed from the sums (never averaged), with the same
-- formulas: GRR = (start − churn − contraction) / start, capped at grr_cap;
-- NRR = (start − churn − contraction + expansion) / start.
with

retention as (

    select * from {{ ref('fct_revenue_retention') }}

),

aggregated as (

    select
        calendar_month,
        min(window_months) as window_months,
        sum(starting_customers)::bigint as starting_customers,
        sum(retained_customers)::bigint as retained_customers,
        sum(starting_arr_usd) as starting_arr_usd,
        sum(churned_arr_usd) as churned_arr_usd,
        sum(contraction_arr_usd) as contraction_arr_usd,
        sum(expansion_arr_usd) as expansion_arr_usd,
        sum(ending_arr_usd) as ending_arr_usd
    from retention
    group by calendar_month

),

final as (

    select
        calendar_month,
        window_months,
        starting_customers,
        retained_customers,
        starting_arr_usd,
        churned_arr_usd,
        contraction_arr_usd,
        expansion_arr_usd,
        ending_arr_usd,
        {{ retention_rates() }}
    from aggregated

)

select * from final
