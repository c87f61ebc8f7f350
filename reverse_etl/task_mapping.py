"""What a playbook-step task looks like in HubSpot: ``marts.mart_crm_tasks`` row → task input.

The task key (``postsale_task_key``, a unique-value task property in the ``postsale`` group)
goes on every task, so a task reverse ETL created can be found again by its key. The status is
never sent: a new task starts NOT_STARTED, and what the CSM does with it afterwards is theirs.
The due date is noon UTC of the step's due day, so it shows on that day in every time zone
from UTC-11 to UTC+11.
"""

from __future__ import annotations

from datetime import date, datetime

from reverse_etl.mapping import MANAGED_BY, PROPERTY_GROUP

MART = "marts.mart_crm_tasks"
OBJECT_TYPE = "tasks"
KEY_PROPERTY = "postsale_task_key"
TASK_TO_COMPANY = 192  # HubSpot-defined association type id (v4): task to company
COLUMNS = (
    "task_key",
    "as_of_date",
    "due_date",
    "company_id",
    "owner_id",
    "task_type",
    "task_priority",
    "task_subject",
    "task_body",
)
# HubSpot caps a text property at 65,536 characters; the body is far shorter, but never send more.
BODY_MAX_CHARS = 65_000


def key_property_definition() -> dict:
    return {
        "name": KEY_PROPERTY,
        "label": "Postsale task key",
        "type": "string",
        "fieldType": "text",
        "groupName": PROPERTY_GROUP,
        "hasUniqueValue": True,
        "description": "The playbook step this task is for (account, playbook, step, feature, due date). " + MANAGED_BY,
    }


def due_timestamp(day: date) -> str:
    return datetime(day.year, day.month, day.day, 12).isoformat() + "Z"


def task_input(row: dict) -> dict:
    """The batch-create input of one mart row (``objectWriteTraceId`` names it in HubSpot's answer)."""
    props = {
        "hs_timestamp": due_timestamp(row["due_date"]),
        "hs_task_subject": row["task_subject"],
        "hs_task_body": (row["task_body"] or "")[:BODY_MAX_CHARS],
        "hs_task_type": row["task_type"],
        "hs_task_priority": row["task_priority"],
        KEY_PROPERTY: row["task_key"],
    }
    if row.get("owner_id"):
        props["hubspot_owner_id"] = str(row["owner_id"])
    return {
        "objectWriteTraceId": row["task_key"],
        "properties": props,
        "associations": [
            {
                "to": {"id": str(row["company_id"])},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_COMPANY}],
            }
        ],
    }
