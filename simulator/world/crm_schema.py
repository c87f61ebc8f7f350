"""HubSpot property definitions and groups for every simulated object type.

Built-in properties mirror HubSpot's names (`name`, `domain`, `dealstage`, ...); the
project's own properties live in the `postsale` group. The properties API serves these
definitions and accepts new ones (reverse ETL creates its score properties there). Tasks
are written only by clients; their definitions exist so writes can be validated.
"""

from __future__ import annotations

from simulator.world.store import WorldWriter, dumps

OBJECT_TYPES = ("companies", "contacts", "deals", "tickets", "feedback_submissions", "tasks")

GROUPS = {
    "companies": ("companyinformation", "Company information"),
    "contacts": ("contactinformation", "Contact information"),
    "deals": ("dealinformation", "Deal information"),
    "tickets": ("ticketinformation", "Ticket information"),
    "feedback_submissions": ("feedback_submission_information", "Feedback submission information"),
    "tasks": ("task", "Task information"),
}
TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
# Values no client may write: derived from the row (ids, dates) or set by HubSpot itself.
READ_ONLY_VALUES = (
    "hs_lastmodifieddate",
    "lastmodifieddate",
    "hs_object_id",
    "createdate",
    "hs_createdate",
    "hs_task_completion_date",
)

# (name, label, type, fieldType, custom?, options)
_S, _D, _N, _DT, _E, _B = "string", "date", "number", "datetime", "enumeration", "bool"
PROPERTIES: dict[str, list[tuple]] = {
    "companies": [
        ("name", "Name", _S, "text", False),
        ("domain", "Company domain name", _S, "text", False),
        ("industry", "Industry", _S, "text", False),
        ("country", "Country/Region", _S, "text", False),
        ("numberofemployees", "Number of Employees", _N, "number", False),
        (
            "lifecyclestage",
            "Lifecycle Stage",
            _E,
            "radio",
            False,
            ("subscriber", "lead", "opportunity", "customer", "evangelist", "other"),
        ),
        ("hubspot_owner_id", "Company owner", _E, "select", False),
        ("createdate", "Create Date", _DT, "date", False),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", False),
        ("hs_object_id", "Record ID", _N, "number", False),
        (
            "customer_segment",
            "Customer segment",
            _E,
            "select",
            True,
            ("enterprise", "mid_market", "smb", "product_led"),
        ),
        ("postsale_account_id", "Product account id", _S, "text", True),
        ("stripe_customer_id", "Stripe customer id", _S, "text", True),
        ("acquisition_channel", "Acquisition channel", _E, "select", True, ("sales", "self_serve")),
        ("customer_status", "Customer status", _E, "select", True, ("prospect", "active", "churned")),
        ("contract_start_date", "Contract start date", _D, "date", True),
        ("contract_end_date", "Contract end date", _D, "date", True),
        ("contract_term_months", "Contract term (months)", _N, "number", True),
        (
            "onboarding_status",
            "Onboarding status",
            _E,
            "select",
            True,
            ("not_started", "in_progress", "delayed", "graduated"),
        ),
        ("onboarding_target_date", "Onboarding target date", _D, "date", True),
        ("onboarding_kickoff_date", "Onboarding kickoff date", _D, "date", True),
        ("onboarding_technical_setup_date", "Technical setup complete", _D, "date", True),
        ("onboarding_training_complete_date", "Training complete", _D, "date", True),
        ("onboarding_first_value_date", "First value achieved", _D, "date", True),
        ("onboarding_graduation_date", "Onboarding graduation date", _D, "date", True),
        ("onboarding_delay_reason", "Onboarding delay reason", _S, "text", True),
        ("onboarding_score_technical", "Scorecard: technical (0-10)", _N, "number", True),
        ("onboarding_score_knowledge", "Scorecard: knowledge (0-10)", _N, "number", True),
        ("onboarding_score_usage", "Scorecard: usage (0-10)", _N, "number", True),
        ("onboarding_score_value", "Scorecard: value (0-10)", _N, "number", True),
        ("onboarding_score_stakeholder", "Scorecard: stakeholder (0-10)", _N, "number", True),
        ("champion_contact_id", "Champion contact id", _S, "text", True),
        ("csm_risk_flag", "CSM risk flag", _E, "select", True, ("champion_left", "budget_cut", "competitor")),
        ("competitor_flag", "Competitor evaluation open", _B, "booleancheckbox", True, ("true", "false")),
        ("merger_date", "Merger / acquisition date", _D, "date", True),
        ("last_enrichment_date", "Last enrichment date", _D, "date", True),
    ],
    "contacts": [
        ("email", "Email", _S, "text", False),
        ("firstname", "First Name", _S, "text", False),
        ("lastname", "Last Name", _S, "text", False),
        ("company", "Company Name", _S, "text", False),
        ("jobtitle", "Job Title", _S, "text", False),
        ("associatedcompanyid", "Primary Associated Company ID", _N, "number", False),
        ("lifecyclestage", "Lifecycle Stage", _E, "radio", False, ("lead", "customer", "other")),
        ("hubspot_owner_id", "Contact owner", _E, "select", False),
        ("createdate", "Create Date", _DT, "date", False),
        ("lastmodifieddate", "Last Modified Date", _DT, "date", False),
        ("hs_object_id", "Record ID", _N, "number", False),
        ("postsale_role", "Product role", _E, "select", True, ("admin", "end_user", "manager", "executive")),
        ("is_champion", "Champion", _B, "booleancheckbox", True, ("true", "false")),
        ("is_executive_sponsor", "Executive sponsor", _B, "booleancheckbox", True, ("true", "false")),
        ("left_company_date", "Left company on", _D, "date", True),
        ("last_enrichment_date", "Last enrichment date", _D, "date", True),
    ],
    "deals": [
        ("dealname", "Deal Name", _S, "text", False),
        ("amount", "Amount", _N, "number", False),
        ("pipeline", "Pipeline", _E, "select", False, ("default",)),
        (
            "dealstage",
            "Deal Stage",
            _E,
            "radio",
            False,
            (
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
                "closedwon",
                "closedlost",
            ),
        ),
        ("closedate", "Close Date", _DT, "date", False),
        ("dealtype", "Deal Type", _E, "radio", False, ("newbusiness", "existingbusiness")),
        ("hubspot_owner_id", "Deal owner", _E, "select", False),
        ("createdate", "Create Date", _DT, "date", False),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", False),
        ("hs_object_id", "Record ID", _N, "number", False),
        ("postsale_deal_kind", "Deal kind", _E, "select", True, ("new_business", "expansion", "renewal")),
        ("seats", "Seats after close", _N, "number", True),
    ],
    "tickets": [
        ("subject", "Ticket name", _S, "text", False),
        ("content", "Ticket description", _S, "textarea", False),
        ("hs_pipeline", "Pipeline", _E, "select", False, ("0",)),
        ("hs_pipeline_stage", "Ticket status", _E, "select", False, ("1", "2", "3", "4")),
        ("hs_ticket_priority", "Priority", _E, "select", False, ("LOW", "MEDIUM", "HIGH", "URGENT")),
        (
            "hs_ticket_category",
            "Category",
            _E,
            "checkbox",
            False,
            ("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"),
        ),
        ("closed_date", "Close date", _DT, "date", False),
        ("time_to_close", "Time to close", _N, "number", False),
        ("hubspot_owner_id", "Ticket owner", _E, "select", False),
        ("createdate", "Create date", _DT, "date", False),
        ("hs_lastmodifieddate", "Last modified date", _DT, "date", False),
        ("hs_object_id", "Record ID", _N, "number", False),
    ],
    "feedback_submissions": [
        ("hs_survey_type", "Survey type", _E, "select", False, ("NPS", "CSAT", "CES", "CUSTOM")),
        ("hs_survey_name", "Survey name", _S, "text", False),
        ("hs_survey_channel", "Survey channel", _E, "select", False, ("EMAIL", "WEB", "CHAT")),
        ("hs_response_value", "Response value", _N, "number", False),
        ("hs_sentiment", "Sentiment", _E, "select", False, ("PROMOTER", "PASSIVE", "DETRACTOR")),
        ("hs_contact_email_rollup", "Contact email", _S, "text", False),
        ("hs_submission_name", "Submission name", _S, "text", False),
        ("hs_createdate", "Create date", _DT, "date", False),
        ("hs_lastmodifieddate", "Last modified date", _DT, "date", False),
        ("hs_object_id", "Record ID", _N, "number", False),
    ],
    "tasks": [
        ("hs_timestamp", "Due date", _DT, "date", False),
        ("hs_task_subject", "Task Title", _S, "text", False),
        ("hs_task_body", "Notes", _S, "textarea", False),
        ("hs_task_status", "Task Status", _E, "select", False, TASK_STATUSES),
        ("hs_task_priority", "Priority", _E, "select", False, ("NONE", "LOW", "MEDIUM", "HIGH")),
        ("hs_task_type", "Task Type", _E, "select", False, ("CALL", "EMAIL", "TODO")),
        ("hs_task_completion_date", "Completed at", _DT, "date", False),
        ("hubspot_owner_id", "Assigned to", _E, "select", False),
        ("hs_createdate", "Create date", _DT, "date", False),
        ("hs_lastmodifieddate", "Last modified date", _DT, "date", False),
        ("hs_object_id", "Record ID", _N, "number", False),
    ],
}


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def property_definition(object_type: str, spec: tuple, order: int, ts: int) -> dict:
    """A HubSpot `Property` object (see specs/hubspot/properties.json)."""
    name, label, type_, field_type, custom, *rest = spec
    options = rest[0] if rest else ()
    group = "postsale" if custom else GROUPS[object_type][0]
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "description": "" if custom else f"HubSpot default property {name}",
        "groupName": group,
        "options": [
            {"label": o.replace("_", " ").title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options)
        ],
        "displayOrder": order if custom else -1,
        "calculated": name in ("hs_lastmodifieddate", "lastmodifieddate", "hs_object_id", "time_to_close"),
        "externalOptions": name == "hubspot_owner_id",
        "hasUniqueValue": name == "hs_object_id",
        "hidden": False,
        "hubspotDefined": not custom,
        "modificationMetadata": {
            "archivable": bool(custom),
            "readOnlyDefinition": not custom,
            "readOnlyValue": name in READ_ONLY_VALUES,
        },
        "formField": bool(custom),
        "dataSensitivity": "non_sensitive",
        "createdAt": _iso(ts),
        "updatedAt": _iso(ts),
        "archived": False,
    }


def definition_rows(ts: int, object_types: tuple[str, ...] = OBJECT_TYPES) -> tuple[list[tuple], list[tuple]]:
    """Rows of `hubspot_properties` and `hubspot_property_groups` for the given object types."""
    prop_rows, group_rows = [], []
    for otype in object_types:
        gname, glabel = GROUPS[otype]
        group_rows.append((otype, gname, dumps({"name": gname, "label": glabel, "displayOrder": 0, "archived": False})))
        group_rows.append(
            (otype, "postsale", dumps({"name": "postsale", "label": "Postsale", "displayOrder": 1, "archived": False}))
        )
        for i, spec in enumerate(PROPERTIES[otype]):
            prop_rows.append((otype, spec[0], dumps(property_definition(otype, spec, i, ts))))
    return prop_rows, group_rows


def write_property_definitions(w: WorldWriter, ts: int) -> None:
    prop_rows, group_rows = definition_rows(ts)
    w.rows("INSERT INTO hubspot_properties VALUES (?,?,?)", prop_rows)
    w.rows("INSERT INTO hubspot_property_groups VALUES (?,?,?)", group_rows)
