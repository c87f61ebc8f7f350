{#- Monthly recurring revenue of a subscription item, in USD: quantity x unit price, divided
    by the months its billing interval spans (year 12, week 12/52, day 12/365, month 1) and by
    the interval count (a quarterly price is month x 3). `item` is the alias of a relation with
    the columns of stg_stripe__subscription_items. -#}

{% macro subscription_item_mrr_usd(item) -%}
    {{ item }}.quantity * {{ item }}.unit_amount_cents / 100.0
    / case {{ item }}.billing_interval
        when 'year' then 12.0
        when 'week' then 12.0 / 52
        when 'day' then 12.0 / 365
        else 1.0
    end / {{ item }}.billing_interval_count
{%- endmacro %}
