-- Evidence that can move an account backwards in its journey, one row per event:
-- a champion or executive sponsor leaving, seats cut mid-term (not at a renewal), a merger.
with

changes as (

    select * from {{ ref('int_champion_changes_detected') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

terms as (

    select * from {{ ref('int_contract_terms_derived') }}

),

seat_history as (

    select * from {{ ref('int_account_seats_monthly') }}

),

seat_changes as (

    select
        company_id,
        month_start,
        seats,
        lag(seats) over (
            partition by company_id
            order by month_start
        ) as previous_seats
    from seat_history

),

seat_cuts as (

    select
        seat_changes.company_id,
        seat_changes.month_start as triggered_on,
        'seat_contraction' as trigger_type,
        seat_changes.previous_seats || ' -> ' || seat_changes.seats || ' seats' as trigger_detail
    from seat_changes
    where
        seat_changes.seats < seat_changes.previous_seats
        and not exists (
            select 1 from terms
            where
                terms.company_id = seat_changes.company_id
                and abs(terms.contract_end_date - seat_changes.month_start) <= 31
        )

),

departures as (

    select
        company_id,
        left_company_on as triggered_on,
        key_role || '_left' as trigger_type,
        'contact ' || contact_id as trigger_detail
    from changes

),

mergers as (

    select
        company_id,
        merger_date as triggered_on,
        'merger' as trigger_type,
        'merger or acquisition reopened onboarding' as trigger_detail
    from accounts
    where merger_date is not null

),

unioned as (

    select * from departures
    union all
    select * from seat_cuts
    union all
    select * from mergers

),

final as (

    select
        md5(company_id || '|' || trigger_type || '|' || triggered_on::text || '|' || trigger_detail) as trigger_id,
        company_id,
        triggered_on,
        trigger_type,
        trigger_detail
    from unioned

)

select * from final
