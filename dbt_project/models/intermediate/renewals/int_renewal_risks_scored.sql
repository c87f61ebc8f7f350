-- The current contract terms scored by the fitted renewal-risk model: the newest version fitted
-- on or before as_of_date (backfills apply the model of their day), its coefficients applied
-- to the term's point-in-time features, each feature's contribution to the log-odds kept as
-- the term's drivers. No row when no version exists yet: fct_renewals falls back to the rule
-- points.
with

features as (

    select * from {{ ref('int_renewal_features_derived') }}
    where not is_training

),

versions as (

    select * from {{ ref('stg_postsale__risk_model_versions') }}
    where as_of_date <= {{ as_of_date() }}

),

coefficients as (

    select * from {{ ref('stg_postsale__risk_model_coefficients') }}

),

current_version as (

    select * from versions
    order by as_of_date desc, fitted_at desc
    limit 1

),

current_coefficients as (

    select coefficients.*
    from coefficients
    inner join current_version on coefficients.version_id = current_version.version_id

),

feature_values as (

    -- One row per term and modelled feature (the model names the columns it uses).
    select
        features.contract_term_id,
        features.company_id,
        current_coefficients.feature,
        current_coefficients.coefficient
        * (
            coalesce(feature_json.value::double precision, current_coefficients.fill_value)
            - current_coefficients.center
        )
        / current_coefficients.scale as contribution
    from features
    cross join lateral jsonb_each_text(to_jsonb(features)) as feature_json (key, value)  -- noqa: RF02
    inner join current_coefficients on feature_json.key = current_coefficients.feature

),

summed as (

    select
        contract_term_id,
        company_id,
        sum(contribution) as feature_log_odds,
        jsonb_object_agg(
            feature, round(contribution::numeric, 3)
            order by feature
        ) as risk_contributions,
        array_to_string(
            (array_agg(
                feature
                order by contribution desc
            ) filter (where contribution > 0
            ))[
                1:{{ var('risk_top_drivers') }}
            ],
            ', '
        ) as risk_model_drivers
    from feature_values
    group by contract_term_id, company_id

),

final as (

    select
        summed.contract_term_id,
        summed.company_id,
        current_version.version_id as risk_model_version,
        1 / (1 + exp(-(current_version.intercept + summed.feature_log_odds))) as risk_probability,
        summed.risk_contributions,
        summed.risk_model_drivers
    from summed
    cross join current_version

)

select * from final
