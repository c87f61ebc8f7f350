-- One row per CRM task reverse ETL creates (reverse_etl/crm_tasks.py): the due playbook steps of
-- fct_playbook_steps_due grouped per account, playbook, step, feature and due date, so a CSM gets
-- one task for the five users of an account who need the same step the same day, not five.
-- task_key is the stable external key the sync dedupes on (audit.crm_task_state): a step
-- listed again, a rerun or a retried batch never makes a second task. The window is the steps
-- the playbook mart still holds (due in the last playbook_catch_up_max_days days), so a sync
-- that missed a day catches up. Who gets the task and how is seed crm_task_routing; an account
-- without an active owner goes to its segment's escalation owner (seed crm_escalation_owners).
-- Built after its relationships tests' targets (Airflow runs a test with its model):
-- depends_on: {{ ref('dim_dates') }}
with

steps_due as (

    select * from {{ ref('fct_playbook_steps_due') }}
    where
        as_of_date <= {{ as_of_date() }}
        and due_date > {{ as_of_date() }} - {{ var('playbook_catch_up_max_days') }}
        and due_date <= {{ as_of_date() }}
        and company_id is not null

),

routing as (

    select * from {{ ref('crm_task_routing') }}

),

escalation as (

    select * from {{ ref('crm_escalation_owners') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

active_owners as (

    select
        owner_id,
        email
    from owners
    where not is_archived

),

grouped as (

    -- One task per account, playbook, step, feature and due date; the users it concerns.
    select
        steps_due.company_id,
        steps_due.playbook,
        steps_due.step_number,
        steps_due.step_name,
        steps_due.feature_key,
        steps_due.due_date,
        bool_or(steps_due.is_high_value_account) as is_high_value_account,
        count(distinct steps_due.user_id) as user_count,
        array_agg(
            distinct steps_due.user_id
            order by steps_due.user_id
        ) as user_ids,
        max(steps_due.triggered_date) as triggered_date
    from steps_due
    group by 1, 2, 3, 4, 5, 6

),

named_users as (

    -- The first users by name, for the task body (the rest are counted).
    select
        grouped.company_id,
        grouped.playbook,
        grouped.step_number,
        grouped.feature_key,
        grouped.due_date,
        string_agg(
            coalesce(users.user_name, users.email, listed.user_id), ', '
            order by coalesce(users.user_name, users.email, listed.user_id)
        ) as user_names
    from grouped
    cross join lateral unnest(grouped.user_ids[1:{{ var('crm_task_users_listed') }}]) as listed (user_id)
    left join users on listed.user_id = users.user_id
    group by 1, 2, 3, 4, 5

),

assigned as (

    -- The account's owner while active in the CRM, else the segment's escalation owner.
    select
        grouped.*,
        accounts.company_name,
        accounts.segment,
        accounts.arr_usd,
        account_owner.owner_id as active_owner_id,
        escalation_owner.owner_id as escalation_owner_id,
        coalesce(account_owner.owner_id, escalation_owner.owner_id) as owner_id,
        account_owner.owner_id is null and escalation_owner.owner_id is not null as is_escalated
    from grouped
    inner join accounts on grouped.company_id = accounts.company_id
    left join active_owners as account_owner on accounts.owner_id = account_owner.owner_id
    left join escalation on accounts.segment = escalation.segment
    left join active_owners as escalation_owner on lower(escalation.escalation_owner_email) = escalation_owner.email

),

routed as (

    select
        assigned.*,
        routing.task_type,
        routing.action,
        case when assigned.is_high_value_account then routing.high_value_priority else routing.priority end
        as task_priority
    from assigned
    inner join routing
        on assigned.playbook = routing.playbook and assigned.step_name = routing.step_name
    where routing.is_crm_task

),

worded as (

    select
        routed.*,
        named_users.user_names,
        initcap(replace(routed.playbook, '_', ' ')) as playbook_label,
        replace(routed.step_name, '_', ' ') as step_label
    from routed
    left join named_users
        on
            routed.company_id = named_users.company_id
            and routed.playbook = named_users.playbook
            and routed.step_number = named_users.step_number
            and routed.feature_key is not distinct from named_users.feature_key
            and routed.due_date = named_users.due_date

),

final as (

    select
        md5(
            worded.company_id || '|' || worded.playbook || '|' || worded.step_number::text || '|'
            || coalesce(worded.feature_key, '') || '|' || worded.due_date::text
        ) as task_key,
        {{ as_of_date() }} as as_of_date,
        worded.due_date,
        worded.company_id,
        worded.playbook,
        worded.step_number,
        worded.step_name,
        worded.feature_key,
        worded.user_count,
        worded.owner_id,
        worded.is_escalated,
        worded.is_high_value_account,
        worded.task_type,
        worded.task_priority,
        left(
            worded.playbook_label || ': ' || worded.step_label
            || coalesce(' (' || worded.feature_key || ')', '')
            || ' for ' || worded.user_count::text || case when worded.user_count = 1 then ' user' else ' users' end
            || ' at ' || coalesce(worded.company_name, worded.company_id),
            {{ var('crm_task_subject_max_chars') }}
        ) as task_subject,
        concat_ws(
            E'\n',
            'Why: step ' || worded.step_number::text || ' of the ' || lower(worded.playbook_label)
            || ' playbook fell due on ' || worded.due_date::text
            || ' (triggered on ' || worded.triggered_date::text || ').',
            'What to do: ' || worded.action,
            'Users (' || worded.user_count::text || '): ' || worded.user_names
            || case
                when worded.user_count > {{ var('crm_task_users_listed') }}
                    then ', and ' || (worded.user_count - {{ var('crm_task_users_listed') }})::text || ' more'
                else ''
            end,
            case
                when worded.is_escalated
                    then
                        'Escalated: the account has no active owner; assigned to the ' || worded.segment
                        || ' escalation owner.'
                when worded.owner_id is null
                    then
                        'Unassigned: the account has no active owner and its segment no escalation owner '
                        || '(seed crm_escalation_owners).'
            end,
            'Created by postsale from the playbook steps due (fct_playbook_steps_due).'
        ) as task_body
    from worded

)

select * from final
