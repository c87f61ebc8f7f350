-- Champion and executive-sponsor departures: one row per key contact who left the customer,
-- with the replacement named afterwards (another champion/sponsor who had not left by the
-- departure or was promoted), so journey regressions and health can use the date of the change.
with

contacts as (

    select * from {{ ref('int_contacts_roles_joined') }}

),

departures as (

    select
        contact_id,
        company_id,
        case when is_champion then 'champion' else 'executive_sponsor' end as key_role,
        left_company_on
    from contacts
    where left_company_on is not null and (is_champion or is_executive_sponsor)

),

replacements as (

    select
        departures.contact_id,
        -- A promoted contact has no change date in the CRM: the replacement date is only known
        -- when the successor joined after the departure.
        min(greatest(successors.joined_on, departures.left_company_on)) as replaced_on,
        (array_agg(
            successors.contact_id
            order by successors.joined_on, successors.contact_id
        ))[1]
        as replacement_contact_id
    from departures
    inner join contacts as successors
        on
            departures.company_id = successors.company_id
            and departures.contact_id != successors.contact_id
            and (successors.left_company_on is null or departures.left_company_on < successors.left_company_on)
            and (
                (departures.key_role = 'champion' and successors.is_champion)
                or (departures.key_role = 'executive_sponsor' and successors.is_executive_sponsor)
            )
    group by departures.contact_id

),

final as (

    select
        md5(departures.contact_id || '|' || departures.left_company_on::text) as champion_change_id,
        departures.company_id,
        departures.contact_id,
        departures.key_role,
        departures.left_company_on,
        replacements.replacement_contact_id,
        replacements.replaced_on
    from departures
    left join replacements on departures.contact_id = replacements.contact_id

)

select * from final
