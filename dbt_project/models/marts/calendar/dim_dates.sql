-- One row per calendar day from var dim_dates_start_date to as_of_date plus
-- var dim_dates_horizon_days: the date dimension every mart date joins to (calendar_date),
-- with its month, week, quarter and year and the flags BI filters on. The horizon covers the
-- contract ends and renewal runways ahead of as_of_date.
with

days as (

    select spine.spine_day::date as calendar_date
    from generate_series(
        '{{ var("dim_dates_start_date") }}'::date,
        {{ as_of_date() }} + {{ var('dim_dates_horizon_days') }},
        interval '1 day'
    ) as spine (spine_day)

),

final as (

    select
        calendar_date,
        date_trunc('month', calendar_date)::date as calendar_month,
        date_trunc('week', calendar_date)::date as week_start_date,
        date_trunc('quarter', calendar_date)::date as quarter_start_date,
        date_trunc('year', calendar_date)::date as year_start_date,
        extract(year from calendar_date)::integer as calendar_year,
        extract(quarter from calendar_date)::integer as calendar_quarter,
        extract(month from calendar_date)::integer as month_of_year,
        extract(day from calendar_date)::integer as day_of_month_number,
        extract(doy from calendar_date)::integer as day_of_year,
        extract(week from calendar_date)::integer as iso_week,
        extract(isodow from calendar_date)::integer as day_of_week,
        trim(to_char(calendar_date, 'Day')) as day_name,
        extract(isodow from calendar_date) in (6, 7) as is_weekend,
        calendar_date = (date_trunc('month', calendar_date) + interval '1 month - 1 day')::date as is_month_end,
        calendar_date = (date_trunc('quarter', calendar_date) + interval '3 months - 1 day')::date as is_quarter_end,
        extract(month from calendar_date) = 12 and extract(day from calendar_date) = 31 as is_year_end
    from days

)

select * from final
