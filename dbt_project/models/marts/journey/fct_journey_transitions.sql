-- One row per account and stage episode (a run of consecutive days with the stage flag):
-- entry and exit, time in stage, the primary and core stage before entry, whether the entry
-- was a regression (back to onboarding or adoption from a later stage) and what triggered it.
{#- Incremental (docs/DBT.md): a daily run re-derives only the episodes that can have changed and
    keeps every other stored row; `journey_episode_cut_day()` is the first day whose episodes are
    re-derived (none: a full build), `lookup` the daily table the entry and exit days are read from
    (the `daily` CTE on a full build; on a daily run the table itself, through its index). -#}
{%- set cut_day = journey_episode_cut_day() | trim or none -%}
{%- set lookup = 'daily' if cut_day is none else ref('fct_journey_stage_daily') %}
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
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
{% if cut_day is not none %}

    built as (

        select
            *,
            entered_date + days_in_stage - 1 as last_day_in_stage
        from {{ this }}

    ),

    window_bounds as (

        -- Per account, through the (company_id, calendar_date) index: the same first days as a full build.
        select
            accounts.company_id,
            first_days.first_day
        from accounts
        cross join lateral (
            select min(account_days.calendar_date) as first_day
            from {{ lookup }} as account_days
            where account_days.company_id = accounts.company_id
        ) as first_days
        where first_days.first_day is not null

    ),

    unbuilt_companies as (

        -- Accounts with days but no stored episode: all their days are read.
        select window_bounds.company_id
        from window_bounds
        where not exists (select 1 from built where built.company_id = window_bounds.company_id)

    ),

    recent_days as (

        select recent.*
        from {{ lookup }} as recent
        where recent.calendar_date >= {{ cut_day }}
        union all
        select older.*
        from {{ lookup }} as older
        inner join unbuilt_companies on older.company_id = unbuilt_companies.company_id
        where older.calendar_date < {{ cut_day }}

    ),
{% endif %}

stage_days as (

    select
        daily.company_id,
        daily.segment,
        daily.calendar_date,
        flag.stage
    from {{ 'daily' if cut_day is none else 'recent_days as daily' }}
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
        stage_days.calendar_date
        - (
            row_number() over (
                partition by stage_days.company_id, stage_days.stage
                order by stage_days.calendar_date
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
        min(calendar_date) as entered_date,
        max(calendar_date) as last_day_in_stage
    from islands
    group by company_id, stage, island

),
{% if cut_day is none %}
    window_bounds as (

        select
            company_id,
            min(calendar_date) as first_day
        from daily
        group by company_id

    ),
{% else %}

    recent_episodes as (

        -- Episodes on or after the cut day; one that was in its stage on the cut day (unchanged)
        -- began when its stored episode did, or on the account's first day if that is later.
        select
            episodes.company_id,
            episodes.stage,
            case
                when built.company_id is null then episodes.entered_date
                else greatest(built.entered_date, window_bounds.first_day)
            end as entered_date,
            episodes.last_day_in_stage,
            episodes.segment as recent_segment,
            built.segment as built_segment,
            case when built.company_id is not null then greatest(built.entered_date, window_bounds.first_day) end as older_from,
            {{ cut_day }} - 1 as older_to
        from episodes
        left join window_bounds on episodes.company_id = window_bounds.company_id
        left join built
            on
                episodes.company_id = built.company_id
                and episodes.stage = built.stage
                and episodes.entered_date = {{ cut_day }}
                and built.entered_date <= {{ cut_day }}
                and built.last_day_in_stage >= {{ cut_day }}

    ),

    truncated_episodes as (

        -- Episodes ended before the cut day that the window start now truncates (or that begin on
        -- the first day, whose observed entry depends on started_on).
        select
            built.company_id,
            built.stage,
            window_bounds.first_day as entered_date,
            built.last_day_in_stage,
            null::text as recent_segment,
            built.segment as built_segment,
            window_bounds.first_day as older_from,
            built.last_day_in_stage as older_to
        from built
        inner join window_bounds on built.company_id = window_bounds.company_id
        where
            built.last_day_in_stage < {{ cut_day }}
            and built.entered_date <= window_bounds.first_day
            and built.last_day_in_stage >= window_bounds.first_day

    ),

    settled_episodes as (

        -- Stored episodes that end (with the day after them) before the cut day and begin after
        -- the account's first day: their days and neighbours are unchanged. Their trigger or exit
        -- can still change if they are regressions (triggers are rebuilt) or end on a churn
        -- date, stored or current.
        select
            built.*,
            built.is_regression
            or built.exit_type = 'churned'
            or coalesce(accounts.churned_on = built.last_day_in_stage + 1, false) as can_change
        from built
        inner join window_bounds on built.company_id = window_bounds.company_id
        inner join accounts on built.company_id = accounts.company_id
        where
            built.last_day_in_stage < {{ cut_day }}
            and built.entered_date > window_bounds.first_day

    ),

    rederived_episodes as (

        select
            company_id,
            stage,
            entered_date,
            last_day_in_stage,
            segment as recent_segment,
            null::text as built_segment,
            null::date as older_from,
            null::date as older_to
        from settled_episodes
        where can_change

    ),

    kept as (

        -- Every other stored episode is kept as it was.
        select
            stage_episode_id,
            company_id,
            segment,
            stage,
            entered_date,
            exited_date,
            days_in_stage,
            is_entry_observed,
            previous_primary_stage,
            previous_core_stage,
            next_primary_stage,
            next_core_stage,
            is_regression,
            regression_trigger,
            exit_type
        from settled_episodes
        where not can_change

    ),

    changed_episodes as (

        select * from recent_episodes
        union all
        select * from truncated_episodes
        union all
        select * from rederived_episodes

    ),

    segmented as (

        -- The segment is the greatest over the episode's days: its days before the cut day are
        -- unchanged and bounded by the stored segment, usually found on the first of them.
        select
            changed_episodes.company_id,
            greatest(
                changed_episodes.recent_segment,
                case
                    when
                        changed_episodes.older_from is null
                        or changed_episodes.older_from > changed_episodes.older_to
                        then null
                    when exists (
                        select 1 from {{ lookup }} as older
                        where
                            older.company_id = changed_episodes.company_id
                            and older.calendar_date between changed_episodes.older_from and changed_episodes.older_to
                            and older.segment = changed_episodes.built_segment
                    ) then changed_episodes.built_segment
                    else (
                        select max(older.segment) from {{ lookup }} as older
                        where
                            older.company_id = changed_episodes.company_id
                            and older.calendar_date between changed_episodes.older_from and changed_episodes.older_to
                    )
                end
            ) as segment,
            changed_episodes.stage,
            changed_episodes.entered_date,
            changed_episodes.last_day_in_stage
        from changed_episodes

    ),
{% endif %}

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
        episodes.entered_date > window_bounds.first_day
        or window_bounds.first_day = accounts.started_on as is_entry_observed,
        accounts.churned_on
    from {{ 'episodes' if cut_day is none else 'segmented as episodes' }}
    inner join stages on episodes.stage = stages.stage
    inner join window_bounds on episodes.company_id = window_bounds.company_id
    inner join accounts on episodes.company_id = accounts.company_id
    {% if cut_day is none %}
        left join daily as before_entry
            on episodes.company_id = before_entry.company_id and before_entry.calendar_date = episodes.entered_date - 1
        left join daily as after_exit
            on episodes.company_id = after_exit.company_id and after_exit.calendar_date = episodes.last_day_in_stage + 1
    {% else %}
        -- A few thousand episodes: each neighbour day is one (company_id, calendar_date) index lookup
        -- (`limit 1`, at most one row anyway, keeps the planner from joining whole tables).
        left join lateral (
            select
                day_before.primary_stage,
                day_before.core_stage
            from {{ lookup }} as day_before
            where day_before.company_id = episodes.company_id and day_before.calendar_date = episodes.entered_date - 1
            limit 1
        ) as before_entry on true
        left join lateral (
            select
                day_after.primary_stage,
                day_after.core_stage
            from {{ lookup }} as day_after
            where day_after.company_id = episodes.company_id and day_after.calendar_date = episodes.last_day_in_stage + 1
            limit 1
        ) as after_exit on true
    {% endif %}
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

recomputed as (

    select
        md5(
            regression_flagged.company_id
            || '|'
            || regression_flagged.stage
            || '|'
            || regression_flagged.entered_date::text
        )
        as stage_episode_id,
        regression_flagged.company_id,
        regression_flagged.segment,
        regression_flagged.stage,
        regression_flagged.entered_date,
        case
            when regression_flagged.last_day_in_stage < {{ as_of_date() }} then regression_flagged.last_day_in_stage + 1
        end as exited_date,
        regression_flagged.last_day_in_stage - regression_flagged.entered_date + 1 as days_in_stage,
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
                        and triggers.triggered_on between regression_flagged.entered_date
                        - {{ var('regression_trigger_lookback_days') }} and regression_flagged.entered_date
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

),

final as (

    select * from recomputed
    {%- if cut_day is not none %}
    union all
    select * from kept
    {%- endif %}

)

select * from final
