{{ config(pre_hook="set local work_mem = '" ~ var('heavy_model_work_mem') ~ "'") }}
-- One row per account and day: a flag for every journey stage the account is in (several
-- can hold at once) and the primary stage by the precedence in seed `journey_stages`.
-- Stages change on evidence (CRM milestones, product usage, deals, contacts, NPS, billing),
-- never on the calendar alone: adoption turns into retention on sustained usage (model
-- int_journey_adoption_weekly). Every input is read as it stood on the day.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
with

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}
    where started_on is not null

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

stages as (

    select * from {{ ref('journey_stages') }}

),

terms as (

    select * from {{ ref('int_contract_terms_derived') }}

),

adoption_weeks as (

    select * from {{ ref('int_journey_adoption_weekly') }}

),

champion_departures as (

    select * from {{ ref('int_journey_triggers_detected') }}
    where trigger_type = 'champion_left'

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}
    where deal_kind = 'expansion'

),

deal_companies as (

    select * from {{ ref('stg_hubspot__associations') }}
    where from_object_type = 'companies' and to_object_type = 'deals'

),

nps_responses as (

    select * from {{ ref('int_nps_responses_joined') }}
    where company_id is not null

),

expansion_deals as (

    select
        deal_companies.from_object_id as company_id,
        deals.created_at::date as opened_on,
        deals.close_at::date as closes_on
    from deals
    inner join deal_companies on deals.deal_id = deal_companies.to_object_id

),

latest_answers as (

    -- Each NPS answer holds until the account's next answer.
    select
        company_id,
        submitted_on,
        nps_score,
        lead(submitted_on) over (
            partition by company_id
            order by submitted_on
        ) as next_submitted_on
    from nps_responses

),

promoter_spans as (

    select
        company_id,
        submitted_on,
        coalesce(next_submitted_on, 'infinity'::date) as ends_on
    from latest_answers
    where nps_score >= {{ var('promoter_min_score') }}

),

account_days as (

    select
        accounts.company_id,
        accounts.segment,
        accounts.started_on,
        -- A graduation the CRM never recorded counts from the onboarding target date plus the
        -- longest allowed extension (var journey_unrecorded_graduation_days).
        coalesce(
            accounts.first_graduated_on,
            accounts.onboarding_target_date + {{ var('journey_unrecorded_graduation_days') }}
        ) as first_graduated_on,
        accounts.merger_date,
        accounts.onboarding_graduation_date,
        segment_targets.renewal_runway_days,
        segment_targets.advocacy_min_months,
        date_day::date as date_day
    from accounts
    inner join segment_targets on accounts.segment = segment_targets.segment
    cross join lateral generate_series(
        greatest(accounts.started_on, {{ daily_build_start(journey_history_start_date()) }}),
        least({{ as_of_date() }}, coalesce(accounts.churned_on - 1, {{ as_of_date() }})),
        interval '1 day'
    ) as date_day

),

usage_states as (

    -- The usage state of a day is the one after the last complete week before it.
    select
        account_days.company_id,
        account_days.date_day,
        adoption_weeks.is_retained,
        adoption_weeks.is_regressed
    from account_days
    inner join adoption_weeks
        on
            account_days.company_id = adoption_weeks.company_id
            and adoption_weeks.week_index = (account_days.date_day - account_days.started_on) / 7 - 1

),

promoter_days as (

    select distinct
        account_days.company_id,
        account_days.date_day
    from account_days
    inner join promoter_spans
        on
            account_days.company_id = promoter_spans.company_id
            and account_days.date_day >= promoter_spans.submitted_on
            and account_days.date_day < promoter_spans.ends_on

),

champion_gap_days as (

    select distinct
        account_days.company_id,
        account_days.date_day
    from account_days
    inner join champion_departures
        on
            account_days.company_id = champion_departures.company_id
            and account_days.date_day >= champion_departures.triggered_on
            and account_days.date_day < champion_departures.triggered_on + {{ var('advocacy_champion_recovery_days') }}

),

expansion_days as (

    select distinct
        account_days.company_id,
        account_days.date_day
    from account_days
    inner join expansion_deals
        on
            account_days.company_id = expansion_deals.company_id
            and account_days.date_day >= expansion_deals.opened_on
            and account_days.date_day < coalesce(expansion_deals.closes_on, 'infinity'::date)

),

renewal_days as (

    select distinct
        account_days.company_id,
        account_days.date_day
    from account_days
    inner join terms
        on
            account_days.company_id = terms.company_id
            and account_days.date_day < terms.contract_end_date
            and account_days.date_day >= terms.term_start_date
            and (
                account_days.date_day >= terms.contract_end_date - account_days.renewal_runway_days
                or account_days.date_day >= terms.renewal_deal_created_on
            )

),

first_renewals as (

    select
        terms.company_id,
        min(terms.contract_end_date) as first_renewed_on
    from terms
    inner join accounts on terms.company_id = accounts.company_id
    where terms.contract_end_date < coalesce(accounts.churned_on, 'infinity'::date)
    group by terms.company_id

),

advocacy_eligibility as (

    -- Advocacy needs a renewal and the segment's minimum tenure first.
    select
        accounts.company_id,
        greatest(
            first_renewals.first_renewed_on,
            (accounts.started_on + make_interval(months => segment_targets.advocacy_min_months))::date
        ) as eligible_on
    from accounts
    inner join segment_targets on accounts.segment = segment_targets.segment
    inner join first_renewals on accounts.company_id = first_renewals.company_id

),

evidence as (

    select
        account_days.*,
        advocacy_eligibility.eligible_on as advocacy_eligible_on,
        coalesce(usage_states.is_retained, false) as is_retained,
        promoter_days.date_day is not null as is_promoter,
        champion_gap_days.date_day is not null as is_without_champion,
        account_days.date_day < coalesce(account_days.first_graduated_on, 'infinity'::date)
        or (
            coalesce(account_days.merger_date <= account_days.date_day, false)
            and (
                account_days.onboarding_graduation_date is null
                or account_days.onboarding_graduation_date <= account_days.merger_date
                or account_days.date_day < account_days.onboarding_graduation_date
            )
        ) as is_onboarding,
        coalesce(usage_states.is_regressed, false) as is_in_regression,
        expansion_days.date_day is not null as has_open_expansion,
        renewal_days.date_day is not null as is_in_renewal_runway

    from account_days
    left join usage_states
        on account_days.company_id = usage_states.company_id and account_days.date_day = usage_states.date_day
    left join promoter_days
        on account_days.company_id = promoter_days.company_id and account_days.date_day = promoter_days.date_day
    left join champion_gap_days
        on account_days.company_id = champion_gap_days.company_id and account_days.date_day = champion_gap_days.date_day
    left join expansion_days
        on account_days.company_id = expansion_days.company_id and account_days.date_day = expansion_days.date_day
    left join renewal_days
        on account_days.company_id = renewal_days.company_id and account_days.date_day = renewal_days.date_day
    left join advocacy_eligibility on account_days.company_id = advocacy_eligibility.company_id

),

flags as (

    select
        evidence.company_id,
        evidence.segment,
        evidence.date_day,
        evidence.is_onboarding,
        not evidence.is_onboarding and not evidence.is_retained as is_adoption,
        not evidence.is_onboarding and evidence.is_retained as is_retention,
        evidence.has_open_expansion as is_expansion,
        evidence.is_in_renewal_runway as is_renewal,
        -- Advocacy: retained on usage, renewed and tenured, latest NPS answer a promoter, and no
        -- champion departure in var advocacy_champion_recovery_days.
        not evidence.is_onboarding
        and evidence.is_retained
        and evidence.is_promoter
        and not evidence.is_without_champion
        and coalesce(evidence.date_day >= evidence.advocacy_eligible_on, false) as is_advocacy,
        evidence.is_in_regression

    from evidence

),

precedence as (

    select
        array_agg(
            stage
            order by precedence
        ) as stages_by_precedence
    from stages

),

primary_stage as (

    select
        flags.company_id,
        flags.date_day,
        (
            select candidate.stage
            from unnest(precedence.stages_by_precedence) with ordinality as candidate (stage, position)
            where
                (candidate.stage = 'onboarding' and flags.is_onboarding)
                or (candidate.stage = 'adoption' and flags.is_adoption)
                or (candidate.stage = 'retention' and flags.is_retention)
                or (candidate.stage = 'expansion' and flags.is_expansion)
                or (candidate.stage = 'renewal' and flags.is_renewal)
                or (candidate.stage = 'advocacy' and flags.is_advocacy)
            order by candidate.position
            limit 1
        ) as primary_stage,
        case
            when flags.is_onboarding then 'onboarding'
            when flags.is_advocacy then 'advocacy'
            when flags.is_retention then 'retention'
            when flags.is_adoption then 'adoption'
        end as core_stage
    from flags
    cross join precedence

),

final as (

    select
        md5(flags.company_id || '|' || flags.date_day::text) as account_day_id,
        flags.company_id,
        flags.date_day as calendar_date,
        flags.segment,
        flags.is_onboarding,
        flags.is_adoption,
        flags.is_retention,
        flags.is_expansion,
        flags.is_renewal,
        flags.is_advocacy,
        flags.is_in_regression,
        (
            flags.is_onboarding::integer + flags.is_adoption::integer + flags.is_retention::integer
            + flags.is_expansion::integer + flags.is_renewal::integer + flags.is_advocacy::integer
        ) as stage_count,
        primary_stage.primary_stage,
        primary_stage.core_stage
    from flags
    inner join primary_stage on flags.company_id = primary_stage.company_id and flags.date_day = primary_stage.date_day

)

select * from final
{{ daily_write_order() }}
