{%- if is_incremental() -%}
    {%- set previous_run -%}
        select
            case
                -- Empty, or a backfill to a day the table has already passed: that day only.
                when coalesce(max(listed.as_of_date) >= {{ as_of_date() }}, true) then {{ as_of_date() }}
                else greatest(
                    max(listed.as_of_date) + 1,
                    {{ as_of_date() }} - {{ var('playbook_catch_up_max_days') }} + 1
                )
            end
        from {{ this }} as listed
    {%- endset -%}
    {%- set catch_up_start = inlined_date(previous_run) -%}
{%- else -%}
    {%- set catch_up_start = as_of_date() -%}
{%- endif %}
-- The playbook steps due since the last run, one row per playbook step, user and due date:
-- new-user activation (trigger: invitation), dormant re-engagement (trigger: last activity;
-- steps from 30 days of silence), feature-launch adoption (trigger: seed feature_launches) and
-- power-user development (trigger: first week of regular use). Conditional steps are only due
-- when their condition holds on their due date (seed playbook_steps.step_condition).
-- Incremental and append-only: a run lists the steps that fell due from the day after the
-- newest as_of_date in this table (the last run that listed steps; at most
-- var playbook_catch_up_max_days days back) to as_of_date, so a missed daily run loses nothing;
-- a first run or a backfill to an earlier day lists the steps due on as_of_date only. A step
-- already listed is never listed again. The warehouse sends nothing: a CRM or engagement tool
-- acts on the rows of its run (as_of_date) and dedupes on playbook_step_due_id.
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_accounts') }}
-- depends_on: {{ ref('dim_dates') }}
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

    -- A launched feature's first use since its release: a non_user step is due while its due
    -- date is before that.
    select
        user_days.user_id,
        used.feature_key,
        min(user_days.activity_date) as first_used_on
    from user_days
    cross join lateral unnest(user_days.features_used) as used (feature_key)
    inner join launches on used.feature_key = launches.feature_key
    where user_days.activity_date between launches.released_on and {{ as_of_date() }}
    group by user_days.user_id, used.feature_key

),

users as (

    select
        milestones.*,
        accounts.churned_on,
        coalesce(accounts.arr_usd >= {{ var('high_value_min_arr') }}, false) as is_high_value_account
    from milestones
    left join accounts on milestones.company_id = accounts.company_id
    where coalesce(accounts.churned_on > {{ catch_up_start }}, true)

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

scheduled as (

    -- The steps falling due in the catch-up window.
    select
        triggers.playbook,
        steps.step_number,
        steps.step_name,
        steps.step_condition,
        steps.day_offset,
        triggers.user_id,
        triggers.feature_key,
        triggers.triggered_on,
        triggers.triggered_on + steps.day_offset as due_date
    from triggers
    inner join steps on triggers.playbook = steps.playbook
    where triggers.triggered_on + steps.day_offset between {{ catch_up_start }} and {{ as_of_date() }}

),

due as (

    -- Every condition is read on the step's due date, so a day caught up lists the rows its
    -- own run would have listed.
    select
        scheduled.*,
        users.account_id,
        users.company_id,
        users.is_high_value_account
    from scheduled
    inner join users on scheduled.user_id = users.user_id
    left join feature_users
        on scheduled.user_id = feature_users.user_id and scheduled.feature_key = feature_users.feature_key
    where
        coalesce(users.churned_on > scheduled.due_date, true)
        and case scheduled.step_condition
            when 'always' then true
            when 'no_login' then coalesce(users.first_active_on > scheduled.due_date, true)
            when 'not_activated' then coalesce(users.activated_on > scheduled.due_date, true)
            when 'high_value' then users.is_high_value_account
            when 'non_user' then coalesce(feature_users.first_used_on > scheduled.due_date, true)
        end

),

keyed as (

    select
        md5(
            due.playbook || '|' || due.step_number::text || '|' || due.user_id || '|'
            || coalesce(due.feature_key, '') || '|' || due.due_date::text
        ) as playbook_step_due_id,
        due.*
    from due

),

{% if is_incremental() %}
    listed as (

        -- Steps an earlier run already listed (a re-run, or a backfill of a listed day).
        select playbook_step_due_id from {{ this }}
        where due_date between {{ catch_up_start }} and {{ as_of_date() }}

    ),
{% endif %}

final as (

    select
        keyed.playbook_step_due_id,
        {{ as_of_date() }} as as_of_date,
        keyed.due_date,
        keyed.playbook,
        keyed.step_number,
        keyed.step_name,
        keyed.step_condition,
        keyed.day_offset,
        keyed.triggered_on as triggered_date,
        keyed.user_id,
        keyed.account_id,
        keyed.company_id,
        keyed.feature_key,
        keyed.is_high_value_account
    from keyed
    {% if is_incremental() %}
        where keyed.playbook_step_due_id not in (select listed.playbook_step_due_id from listed)
    {% endif %}

)

select * from final
