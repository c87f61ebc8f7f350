with

source as (

    select * from {{ source('hubspot', 'companies') }}
    where not _deleted and not coalesce((record ->> 'archived')::boolean, false)

),

renamed as (

    select
        _pk as company_id,
        {{ hs_prop('name') }} as company_name,
        {{ hs_prop('domain') }} as company_domain,
        {{ hs_prop('industry') }} as industry,
        {{ hs_prop('country') }} as country,
        {{ hs_prop('numberofemployees', 'numeric') }}::integer as employee_count,
        {{ hs_prop('lifecyclestage') }} as lifecycle_stage,
        {{ hs_prop('hubspot_owner_id') }} as owner_id,
        {{ hs_prop('customer_segment') }} as crm_segment,
        {{ hs_prop('postsale_account_id') }} as product_account_id,
        {{ hs_prop('stripe_customer_id') }} as stripe_customer_id,
        {{ hs_prop('acquisition_channel') }} as acquisition_channel,
        {{ hs_prop('customer_status') }} as customer_status,
        {{ hs_prop('contract_start_date', 'date') }} as contract_start_date,
        {{ hs_prop('contract_end_date', 'date') }} as contract_end_date,
        {{ hs_prop('contract_term_months', 'numeric') }}::integer as contract_term_months,
        {{ hs_prop('onboarding_status') }} as onboarding_status,
        {{ hs_prop('onboarding_target_date', 'date') }} as onboarding_target_date,
        {{ hs_prop('onboarding_kickoff_date', 'date') }} as onboarding_kickoff_date,
        {{ hs_prop('onboarding_technical_setup_date', 'date') }} as onboarding_technical_setup_date,
        {{ hs_prop('onboarding_training_complete_date', 'date') }} as onboarding_training_complete_date,
        {{ hs_prop('onboarding_first_value_date', 'date') }} as onboarding_first_value_date,
        {{ hs_prop('onboarding_graduation_date', 'date') }} as onboarding_graduation_date,
        {{ hs_prop('onboarding_delay_reason') }} as onboarding_delay_reason,
        {{ hs_prop('onboarding_score_technical', 'numeric') }} as score_technical,
        {{ hs_prop('onboarding_score_knowledge', 'numeric') }} as score_knowledge,
        {{ hs_prop('onboarding_score_usage', 'numeric') }} as score_usage,
        {{ hs_prop('onboarding_score_value', 'numeric') }} as score_value,
        {{ hs_prop('onboarding_score_stakeholder', 'numeric') }} as score_stakeholder,
        {{ hs_prop('champion_contact_id') }} as champion_contact_id,
        {{ hs_prop('csm_risk_flag') }} as csm_risk_flag,
        coalesce({{ hs_prop('competitor_flag', 'boolean') }}, false) as has_open_competitor_evaluation,
        {{ hs_prop('merger_date', 'date') }} as merger_date,
        {{ hs_prop('last_enrichment_date', 'date') }} as last_enrichment_date,
        coalesce(
            {{ hs_prop('createdate', 'timestamptz') }}, (record ->> 'createdAt')::timestamptz
        ) as created_at,
        coalesce(
            {{ hs_prop('hs_lastmodifieddate', 'timestamptz') }}, (record ->> 'updatedAt')::timestamptz
        ) as updated_at,
        _loaded_at as loaded_at

    from source

)

select * from renamed
