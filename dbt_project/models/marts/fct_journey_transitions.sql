-- One row per account and stage episode (a run of consecutive days with the stage flag):
-- entry and exit, time in stage, the primary and core stage before entry, whether the entry
-- was a regression (back to onboarding or adoption from a later stage) and what triggered it.
with

daily as (

    select * from {{ ref('fct_journey_stage_daily') }}

),

stages as (

    select * from {{ ref('journey_stages') }}

),

triggers as (

    select * from {{ ref('int_journey_triggers_detected') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

stage_days as (

    select
        daily.company_id,
        daily.segment,
        daily.date_day,
        flag.stage
    from daily
    cross join
        lateral (
            values
            ('onboarding', daily.is_onboarding),
            ('adoption', daily.is_adoption),
            ('retention', daily.is_retention),
            ('expansion', daily.is_expansion),
            ('renewal', daily.is_renewal),
            ('advocacy', daily.is_advocacy)
        ) as flag (stage, is_set)
    where flag.is_set

),

islands as (

    select
        stage_days.*,
        stage_days.date_day
        - (
            row_number() over (
                partition by stage_days.company_id, stage_days.stage
                order by stage_days.date_day
            )
        )::integer
        as island
    from stage_days

),

episodes as (

    select
        company_id,
        max(segment) as segment,
        stage,
        min(date_day) as entered_on,
        max(date_day) as last_day_in_stage
    from islands
    group by company_id, stage, island

),

window_bounds as (

    select
        company_id,
        min(date_day) as first_day
    from daily
    group by company_id

),

contextualised as (

    select
        episodes.*,
        stages.journey_order,
        before_entry.primary_stage as previous_primary_stage,
        before_entry.core_stage as previous_core_stage,
        after_exit.primary_stage as next_primary_stage,
        after_exit.core_stage as next_core_stage,
        previous_stage.journey_order as previous_core_order,
        next_stage.journey_order as next_core_order,
        episodes.entered_on > window_bounds.first_day
        or window_bounds.first_day = accounts.started_on as is_entry_observed,
        accounts.churned_on
    from episodes
    inner join stages on episodes.stage = stages.stage
    inner join window_bounds on episodes.company_id = window_bounds.company_id
    inner join accounts on episodes.company_id = accounts.company_id
    left join daily as before_entry
        on episodes.company_id = before_entry.company_id and before_entry.date_day = episodes.entered_on - 1
    left join daily as after_exit
        on episodes.company_id = after_exit.company_id and after_exit.date_day = episodes.last_day_in_stage + 1
    left join stages as previous_stage on before_entry.core_stage = previous_stage.stage
    left join stages as next_stage on after_exit.core_stage = next_stage.stage

),

regression_flagged as (

    select
        contextualised.*,
        contextualised.stage in ('onboarding', 'adoption')
        and coalesce(contextualised.previous_core_order > contextualised.journey_order, false) as is_regression
    from contextualised

),

final as (

    select
        md5(
            regression_flagged.company_id
            || '|'
            || regression_flagged.stage
            || '|'
            || regression_flagged.entered_on::text
        )
        as stage_episode_id,
        regression_flagged.company_id,
        regression_flagged.segment,
        regression_flagged.stage,
        regression_flagged.entered_on,
        case
            when regression_flagged.last_day_in_stage < {{ as_of_date() }} then regression_flagged.last_day_in_stage + 1
        end as exited_on,
        regression_flagged.last_day_in_stage - regression_flagged.entered_on + 1 as days_in_stage,
        regression_flagged.is_entry_observed,
        regression_flagged.previous_primary_stage,
        regression_flagged.previous_core_stage,
        regression_flagged.next_primary_stage,
        regression_flagged.next_core_stage,
        regression_flagged.is_regression,
        case
            when regression_flagged.is_regression then
                coalesce((
                    select triggers.trigger_type from triggers
                    where
                        triggers.company_id = regression_flagged.company_id
                        and triggers.triggered_on between regression_flagged.entered_on
                        - {{ var('regression_trigger_lookback_days') }} and regression_flagged.entered_on
                    order by triggers.triggered_on desc
                    limit 1
                ), 'unexplained')
        end as regression_trigger,
        case
            when regression_flagged.last_day_in_stage >= {{ as_of_date() }} then 'ongoing'
            when regression_flagged.churned_on = regression_flagged.last_day_in_stage + 1 then 'churned'
            when regression_flagged.stage in ('expansion', 'renewal') then 'completed'
            when regression_flagged.next_core_order > regression_flagged.journey_order then 'progressed'
            when regression_flagged.next_core_order < regression_flagged.journey_order then 'regressed'
            else 'completed'
        end as exit_type
    from regression_flagged

)

select * from final
