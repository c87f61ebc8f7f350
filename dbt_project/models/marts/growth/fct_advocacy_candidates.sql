-- One row per live account on as_of_date: whether it qualifies as an advocacy candidate
-- (high health, NPS promoter, an engaged champion, renewed at least once, the segment's
-- minimum tenure, no regression under way) and which criteria it misses. Marginal customers
-- are not pushed into advocacy: every criterion must hold.
with

accounts as (

    select * from {{ ref('dim_accounts_scored') }}
    where is_live

),

segment_targets as (

    select * from {{ ref('segment_targets') }}

),

past_terms as (

    select * from {{ ref('int_contract_terms_derived') }}
    where contract_end_date <= {{ as_of_date() }}

),

contacts as (

    select * from {{ ref('int_contacts_roles_joined') }}

),

terms as (

    select
        company_id,
        min(contract_end_date) as first_renewed_date
    from past_terms
    group by company_id

),

champions as (

    select
        contacts.company_id,
        count(*) as engaged_champions
    from contacts
    where contacts.is_champion and coalesce(contacts.left_company_on > {{ as_of_date() }}, true)
    group by contacts.company_id

),

evaluated as (

    select
        accounts.company_id,
        accounts.segment,
        accounts.health_score,
        accounts.latest_nps_score,
        coalesce(champions.engaged_champions, 0) as engaged_champions,
        terms.first_renewed_date,
        coalesce(accounts.health_score >= {{ var('advocacy_min_health') }}, false) as is_health_met,
        coalesce(accounts.latest_nps_score >= {{ var('promoter_min_score') }}, false) as is_promoter,
        coalesce(champions.engaged_champions, 0) > 0 as is_champion_engaged,
        terms.first_renewed_date is not null as is_renewed,
        {{ as_of_date() }}
        >= (accounts.started_date + make_interval(months => segment_targets.advocacy_min_months))::date
        as is_tenure_met,
        not coalesce(accounts.is_in_regression or accounts.is_onboarding, false) as is_regression_free
    from accounts
    left join segment_targets on accounts.segment = segment_targets.segment
    left join terms on accounts.company_id = terms.company_id
    left join champions on accounts.company_id = champions.company_id

),

final as (

    select
        evaluated.*,
        {{ as_of_date() }} as as_of_date,
        evaluated.is_health_met and evaluated.is_promoter and evaluated.is_champion_engaged
        and evaluated.is_renewed and evaluated.is_tenure_met and evaluated.is_regression_free as is_candidate,
        concat_ws(
            ', ',
            case when not evaluated.is_health_met then 'health' end,
            case when not evaluated.is_promoter then 'nps_promoter' end,
            case when not evaluated.is_champion_engaged then 'champion' end,
            case when not evaluated.is_renewed then 'renewal' end,
            case when not evaluated.is_tenure_met then 'tenure' end,
            case when not evaluated.is_regression_free then 'regression' end
        ) as missing_criteria
    from evaluated

)

select * from final
