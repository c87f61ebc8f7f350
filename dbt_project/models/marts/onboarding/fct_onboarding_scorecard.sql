-- One row per CRM company: the onboarding graduation scorecard as of as_of_date. Five
-- dimensions 0–10 weighted by seed onboarding_scorecard_dimensions into a total out of 10;
-- ready ≥ scorecard_ready_min, close ≥ scorecard_close_min, else not_ready. Graduation also
-- needs every dimension green and no red flag. Past the target date an onboarding is
-- extended (up to onboarding_extension_max_days) and then delayed.
with

companies as (

    select * from {{ ref('stg_hubspot__companies') }}

),

dimensions as (

    select * from {{ ref('onboarding_scorecard_dimensions') }}

),

evidence as (

    select * from {{ ref('int_onboarding_evidence_evaluated') }}

),

scores as (

    select
        companies.company_id,
        dimension_scores.dimension,
        dimension_scores.score
    from companies
    cross join lateral (
        values
        ('technical', companies.score_technical),
        ('knowledge', companies.score_knowledge),
        ('usage', companies.score_usage),
        ('value', companies.score_value),
        ('stakeholder', companies.score_stakeholder)
    ) as dimension_scores (dimension, score)

),

weighted as (

    select
        scores.company_id,
        round(sum(dimensions.weight * scores.score), 1) as weighted_total,
        count(scores.score) as dimensions_scored,
        bool_and(scores.score >= dimensions.green_min_score) as all_dimensions_green,
        coalesce(
            string_agg(
                scores.dimension, ', '
                order by scores.dimension
            )
            filter (where scores.score < dimensions.green_min_score),
            ''
        ) as weak_dimensions
    from scores
    inner join dimensions on scores.dimension = dimensions.dimension
    group by scores.company_id

),

flagged as (

    select
        companies.company_id,
        companies.onboarding_status,
        companies.onboarding_kickoff_date,
        companies.onboarding_target_date,
        case
            when companies.onboarding_graduation_date <= {{ as_of_date() }} then companies.onboarding_graduation_date
        end as graduated_on,
        companies.onboarding_delay_reason,
        companies.score_technical,
        companies.score_knowledge,
        companies.score_usage,
        companies.score_value,
        companies.score_stakeholder,
        weighted.weighted_total,
        weighted.dimensions_scored,
        coalesce(weighted.all_dimensions_green, false) as all_dimensions_green,
        weighted.weak_dimensions,
        coalesce(evidence.open_technical_issues > 0, false)
        or coalesce(companies.score_technical < technical_dimension.green_min_score, false) as flag_technical_issues,
        coalesce(evidence.active_seat_ratio < {{ var('red_flag_active_ratio_min') }}, false) as flag_low_active_users,
        coalesce(evidence.weekly_active_users < evidence.weekly_active_users_week_before, false)
        as flag_usage_falling,
        coalesce(evidence.features_used_30d = 0, false) as flag_core_workflows_unused,
        coalesce(evidence.key_contacts_left > 0, false) as flag_champion_left,
        companies.onboarding_first_value_date is null
        or companies.onboarding_first_value_date > {{ as_of_date() }} as flag_value_not_achieved,
        greatest({{ as_of_date() }} - companies.onboarding_target_date, 0) as days_past_target
    from companies
    left join weighted on companies.company_id = weighted.company_id
    left join evidence on companies.company_id = evidence.company_id
    left join dimensions as technical_dimension on technical_dimension.dimension = 'technical'

),

final as (

    select
        flagged.company_id,
        {{ as_of_date() }} as as_of_date,
        flagged.onboarding_status,
        flagged.onboarding_kickoff_date,
        flagged.onboarding_target_date,
        flagged.graduated_on as graduated_date,
        flagged.onboarding_delay_reason,
        flagged.score_technical,
        flagged.score_knowledge,
        flagged.score_usage,
        flagged.score_value,
        flagged.score_stakeholder,
        flagged.weighted_total,
        case
            when flagged.weighted_total is null then 'not_scored'
            when flagged.weighted_total >= {{ var('scorecard_ready_min') }} then 'ready'
            when flagged.weighted_total >= {{ var('scorecard_close_min') }} then 'close'
            else 'not_ready'
        end as scorecard_status,
        flagged.all_dimensions_green as is_all_dimensions_green,
        flagged.weak_dimensions,
        flagged.flag_technical_issues as is_red_flag_technical_issues,
        flagged.flag_low_active_users as is_red_flag_low_active_users,
        flagged.flag_usage_falling as is_red_flag_usage_falling,
        flagged.flag_core_workflows_unused as is_red_flag_core_workflows_unused,
        flagged.flag_champion_left as is_red_flag_champion_left,
        flagged.flag_value_not_achieved as is_red_flag_value_not_achieved,
        (
            flagged.flag_technical_issues::integer + flagged.flag_low_active_users::integer
            + flagged.flag_usage_falling::integer + flagged.flag_core_workflows_unused::integer
            + flagged.flag_champion_left::integer + flagged.flag_value_not_achieved::integer
        ) as red_flag_count,
        concat_ws(
            ', ',
            case when flagged.flag_technical_issues then 'technical_issues' end,
            case when flagged.flag_low_active_users then 'low_active_users' end,
            case when flagged.flag_usage_falling then 'usage_falling' end,
            case when flagged.flag_core_workflows_unused then 'core_workflows_unused' end,
            case when flagged.flag_champion_left then 'champion_left' end,
            case when flagged.flag_value_not_achieved then 'value_not_achieved' end
        ) as red_flags,
        flagged.graduated_on is null
        and flagged.onboarding_target_date - {{ as_of_date() }} between 0 and {{ var('onboarding_review_days_before') }}
        as is_completion_review_due,
        flagged.graduated_on is null
        and flagged.days_past_target between 1 and {{ var('onboarding_extension_max_days') }} as is_extended,
        flagged.graduated_on is null
        and flagged.days_past_target >= {{ var('onboarding_delayed_after_days') }} as is_delayed,
        flagged.graduated_on is null
        and flagged.days_past_target > {{ var('onboarding_extension_max_days') }} as is_escalation_needed,
        flagged.days_past_target,
        coalesce(
            flagged.weighted_total >= {{ var('scorecard_ready_min') }}
            and flagged.all_dimensions_green
            and not (
                flagged.flag_technical_issues or flagged.flag_low_active_users or flagged.flag_usage_falling
                or flagged.flag_core_workflows_unused or flagged.flag_champion_left or flagged.flag_value_not_achieved
            ),
            false
        ) as is_ready_to_graduate
    from flagged

)

select * from final
