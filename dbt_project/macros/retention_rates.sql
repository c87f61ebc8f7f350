{#- GRR and NRR from a row's additive ARR columns (docs/DOMAIN.md §6): GRR = (start − churn −
    contraction) / start, capped at var grr_cap; NRR adds expansion. One definition for the
    detail mart and its monthly roll-up, so the two can never disagree. -#}
{% macro retention_rates() %}
        round(least(
            {{ var('grr_cap') }},
            (starting_arr_usd - churned_arr_usd - contraction_arr_usd) / nullif(starting_arr_usd, 0)
        ), 4) as gross_revenue_retention,
        round(
            (starting_arr_usd - churned_arr_usd - contraction_arr_usd + expansion_arr_usd)
            / nullif(starting_arr_usd, 0),
            4
        ) as net_revenue_retention
{%- endmacro %}
