-- The playbook steps due on as_of_date, one row per playbook step and user: new-user
-- activation (trigger: invitation), dormant re-engagement (trigger: last activity; steps
-- from 30 days of silence), feature-launch adoption (trigger: seed feature_launches) and
-- power-user development (trigger: first week of regular use). Conditional steps are only
-- due when their condition holds (seed playbook_steps.step_condition). The warehouse sends
-- nothing: a CRM or engagement tool acts on these rows.
with

steps as (

    select * from {{ ref('playbook_steps') }}

),

milestones as (

    select * from {{ ref('int_user_milestones_reached') }}

),

accounts as (

    select * from {{ ref('int_account_lifecycles_derived') }}

),

launches as (

    select * from {{ ref('feature_launches') }}

),

catalog as (

    select * from {{ ref('feature_catalog') }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}

),

feature_users as (

    select distinct
        user_days.user_id,
        used.feature_key
    from user_days
    cross join lateral unnest(user_days.features_used) as used (feature_key)
    inner join launches on used.feature_key = launches.feature_key
    where user_days.activity_date between launches.released_on and {{ as_of_date() }}

),

users as (

    select
        milestones.*,
        coalesce(accounts.arr_usd >= {{ var('high_value_min_arr') }}, false) as is_high_value_account
    from milestones
    left join accounts on milestones.company_id = accounts.company_id
    where coalesce(accounts.churned_on > {{ as_of_date() }}, true)

),

triggers as (

    select
        'new_user_activation' as playbook,
        users.user_id,
        users.invited_on as triggered_on,
        null as feature_key
    from users

    union all

    select
        'dormant_reengagement' as playbook,
        users.user_id,
        users.last_active_on as triggered_on,
        null as feature_key
    from users
    where users.activated_on is not null

    union all

    select
        'feature_launch_adoption' as playbook,
        users.user_id,
        launches.released_on as triggered_on,
        launches.feature_key
    from users
    inner join catalog on users.user_role = catalog.role
    inner join launches on catalog.feature_key = launches.feature_key
    where users.invited_on <= launches.released_on

    union all

    select
        'power_user_development' as playbook,
        users.user_id,
        users.regular_use_on as triggered_on,
        null as feature_key
    from users
    where users.regular_use_on is not null

),

due as (

    select
        triggers.playbook,
        steps.step_number,
        steps.step_name,
        steps.step_condition,
        steps.day_offset,
        triggers.user_id,
        triggers.feature_key,
        triggers.triggered_on,
        feature_users.user_id is not null as has_used_feature,
        users.account_id,
        users.company_id,
        users.is_high_value_account
    from triggers
    inner join steps
        on
            triggers.playbook = steps.playbook
            and triggers.triggered_on + steps.day_offset = {{ as_of_date() }}
    inner join users on triggers.user_id = users.user_id
    left join feature_users
        on triggers.user_id = feature_users.user_id and triggers.feature_key = feature_users.feature_key
    where
        case steps.step_condition
            when 'always' then true
            when 'no_login' then coalesce(users.first_active_on > {{ as_of_date() }}, true)
            when 'not_activated' then coalesce(users.activated_on > {{ as_of_date() }}, true)
            when 'high_value' then users.is_high_value_account
            when 'non_user' then feature_users.user_id is null
        end

),

final as (

    select
        md5(due.playbook || '|' || due.step_number::text || '|' || due.user_id || '|' || coalesce(due.feature_key, ''))
        as playbook_step_due_id,
        {{ as_of_date() }} as as_of_date,
        due.playbook,
        due.step_number,
        due.step_name,
        due.step_condition,
        due.day_offset,
        due.triggered_on,
        due.user_id,
        due.account_id,
        due.company_id,
        due.feature_key,
        due.is_high_value_account
    from due

)

select * from final
