with

source as (

    {{ source_if_exists('postsale', 'risk_model_versions', {
        'version_id': 'text', 'fitted_at': 'timestamptz', 'as_of_date': 'date',
        'training_start_date': 'date', 'training_end_date': 'date', 'labelled_renewals': 'integer',
        'labelled_churned': 'integer', 'training_rows': 'integer', 'regularization_c': 'double precision',
        'intercept': 'double precision', 'cv_auc': 'double precision', 'cv_brier': 'double precision',
        'base_rate_brier': 'double precision'
    }) }}

),

renamed as (

    select
        version_id,
        fitted_at,
        as_of_date,
        training_start_date,
        training_end_date,
        labelled_renewals,
        labelled_churned,
        training_rows,
        regularization_c,
        intercept,
        cv_auc,
        cv_brier,
        base_rate_brier
    from source

)

select * from renamed
