"""The one declarative place that says what reverse ETL writes: warehouse column → HubSpot property.

Every property listed here is *owned* by reverse ETL: it is created in the ``postsale``
property group and it is the only thing the sync ever writes. The names carry a ``postsale_``
prefix and a ``score``/verdict wording on purpose: HubSpot already holds source properties the
connectors read back (``onboarding_status`` is a CS-team input, for example), and writing one
of those would feed the warehouse's own output back into its input.

Values are rendered to the strings HubSpot stores (numbers without trailing zeros, ``true`` /
``false``, ISO dates, ``""`` to clear a value), so the fingerprint of a row is stable across
runs and equal rendered values never cause a write.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

PROPERTY_GROUP = "postsale"
PROPERTY_GROUP_LABEL = "Postsale"
OBJECT_TYPE = "companies"
MART = "marts.mart_crm_sync"
KEY_COLUMN = "company_id"  # the HubSpot company id (dim_accounts keys on the CRM company)
MANAGED_BY = "Managed by postsale reverse ETL; edits in HubSpot are overwritten on the next change."
# HubSpot stores at most 65,536 characters in a string property; a reason a CSM reads is far
# shorter. Longer text is cut at the last "; " before the limit (whole phrases) and marked "…".
REASON_MAX_CHARS = 500
REASON_SEPARATOR = "; "


class InvalidValue(ValueError):
    """A mart value that HubSpot must not receive (out of range, unknown option, wrong type)."""


@dataclass(frozen=True)
class OwnedProperty:
    """One mart column and the HubSpot company property it is written to."""

    column: str
    name: str
    label: str
    type: str  # HubSpot property type: number, enumeration, bool, date, string
    field_type: str  # how HubSpot shows it: number, select, booleancheckbox, date, text
    description: str
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    required: bool = False
    max_length: int | None = None  # string values longer than this are truncated (see ``truncate``)
    # False for text that explains other properties (the reasons): it is sent whenever it
    # changes, but its change is not judged by the guardrail; the values it explains are.
    material: bool = True
    # What change detection compares instead of the rendered value (see ``change_value``).
    change_key: Callable[[dict], object] | None = None

    def change_value(self, row: dict, rendered: str) -> object:
        """The value the fingerprint uses: the rendered one unless the property moves every day."""
        return rendered if self.change_key is None else self.change_key(row)

    def definition(self, display_order: int) -> dict:
        """The ``PropertyCreate`` body (specs/hubspot/properties.json)."""
        body = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": PROPERTY_GROUP,
            "description": f"{self.description} {MANAGED_BY}",
            "displayOrder": display_order,
            "formField": False,
        }
        if self.type == "bool":
            body["options"] = [
                {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
            ]
        elif self.options:
            body["options"] = [
                {"label": o.replace("_", " ").capitalize(), "value": o, "displayOrder": i, "hidden": False}
                for i, o in enumerate(self.options)
            ]
        return body

    def render(self, value: object) -> str:
        """The string HubSpot stores for ``value``; ``""`` clears the property. Raises InvalidValue."""
        if value is None:
            if self.required:
                raise InvalidValue(f"{self.column} is null")
            return ""
        if self.type == "number":
            return self._number(value)
        if self.type == "bool":
            if not isinstance(value, bool):
                raise InvalidValue(f"{self.column}={value!r} is not a boolean")
            return "true" if value else "false"
        if self.type == "date":
            if isinstance(value, datetime):  # a timestamp: HubSpot date properties hold the UTC day
                value = value.date()
            if not isinstance(value, date):
                raise InvalidValue(f"{self.column}={value!r} is not a date")
            return value.isoformat()
        text = str(value)
        if self.options and text not in self.options:
            raise InvalidValue(f"{self.column}={text!r} is not one of {list(self.options)}")
        return truncate(text, self.max_length) if self.max_length else text

    def _number(self, value: object) -> str:
        if isinstance(value, bool):
            raise InvalidValue(f"{self.column}={value!r} is not a number")
        try:
            num = Decimal(str(value))
        except InvalidOperation:
            raise InvalidValue(f"{self.column}={value!r} is not a number") from None
        if not num.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
            raise InvalidValue(f"{self.column}={value!r} is not finite")
        if self.integer and num != num.to_integral_value():
            raise InvalidValue(f"{self.column}={value!r} is not a whole number")
        if (self.minimum is not None and num < Decimal(str(self.minimum))) or (
            self.maximum is not None and num > Decimal(str(self.maximum))
        ):
            raise InvalidValue(f"{self.column}={value!r} is outside [{self.minimum}, {self.maximum}]")
        # normalize() drops trailing zeros so 72.50 and 72.5 fingerprint alike; 'f' avoids 1E+2.
        return format(num.normalize(), "f")


def truncate(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: whole phrases up to the last separator that fits, then "…"."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = head.rfind(REASON_SEPARATOR)
    return (head[:cut] if cut > 0 else head.rstrip()) + "…"


def _renewal_date(row: dict) -> str | None:
    """Days to renewal counts down every day; the date it points at only moves when the contract does."""
    if row.get("score_date") is None or row.get("days_to_renewal") is None:
        return None
    day = row["score_date"].date() if isinstance(row["score_date"], datetime) else row["score_date"]
    if isinstance(day, str):  # a rendered value (diff compares what was sent with what would be)
        day = date.fromisoformat(day)
    return (day + timedelta(days=int(row["days_to_renewal"]))).isoformat()


def _never(row: dict) -> None:
    """The score date advances daily on every row: on its own it is not a change worth a write."""
    return None


# unknown: no health component had data (a CRM company that is not, or not yet, a customer).
HEALTH_BANDS = ("green", "yellow", "red", "unknown")
STAGES = ("onboarding", "adoption", "retention", "expansion", "renewal", "advocacy")
# not_scored: the account has no scorecard input yet (never read as a low score).
ONBOARDING_STATUSES = ("ready", "close", "not_ready", "not_scored")
FORECAST_CATEGORIES = ("commit", "likely", "at_risk")

PROPERTIES: tuple[OwnedProperty, ...] = (
    OwnedProperty(
        "health_score", "postsale_health_score", "Health score", "number", "number",
        "Customer health score 0-100 (DOMAIN.md section 5).", minimum=0, maximum=100,
    ),
    OwnedProperty(
        "health_band", "postsale_health_band", "Health band", "enumeration", "select",
        "Green >= 70, yellow 40-69, red < 40; unknown without health data.", options=HEALTH_BANDS,
    ),
    OwnedProperty(
        "primary_stage", "postsale_primary_stage", "Primary journey stage", "enumeration", "select",
        "The customer's primary journey stage.", options=STAGES,
    ),
    OwnedProperty(
        "adoption_tier", "postsale_adoption_tier", "Adoption tier", "string", "text",
        "Account-level adoption tier.",
    ),
    OwnedProperty(
        "onboarding_score", "postsale_onboarding_score", "Onboarding scorecard total", "number", "number",
        "Onboarding scorecard total 0-10.", minimum=0, maximum=10,
    ),
    OwnedProperty(
        "onboarding_status", "postsale_onboarding_status", "Onboarding readiness", "enumeration", "select",
        "Graduation readiness from the onboarding scorecard.", options=ONBOARDING_STATUSES,
    ),
    OwnedProperty(
        "renewal_risk_score", "postsale_renewal_risk_score", "Renewal risk score", "number", "number",
        "Renewal risk 0-100 (DOMAIN.md section 7).", minimum=0, maximum=100,
    ),
    OwnedProperty(
        "forecast_category", "postsale_forecast_category", "Renewal forecast category", "enumeration", "select",
        "Commit, likely or at risk.", options=FORECAST_CATEGORIES,
    ),
    OwnedProperty(
        "days_to_renewal", "postsale_days_to_renewal", "Days to renewal", "number", "number",
        "Days until the contract end date, as of the score date.", integer=True, change_key=_renewal_date,
    ),
    OwnedProperty(
        "expansion_signal_type", "postsale_expansion_signal", "Expansion signal", "string", "text",
        "The strongest open expansion signal (seat_limit, plan_limit, open_opportunity, ...) or none.",
    ),
    OwnedProperty(
        "is_advocacy_candidate", "postsale_advocacy_candidate", "Advocacy candidate", "bool", "booleancheckbox",
        "Meets the advocacy criteria.",
    ),
    OwnedProperty(
        "health_reasons", "postsale_health_reasons", "Health reasons", "string", "textarea",
        "Up to three drivers of the health score a CSM can act on, weakest first (DOMAIN.md section 9).",
        max_length=REASON_MAX_CHARS, material=False,
    ),
    OwnedProperty(
        "renewal_risk_reasons", "postsale_renewal_risk_reasons", "Renewal risk reasons", "string", "textarea",
        "Up to three drivers of the renewal risk score, strongest first (DOMAIN.md section 9).",
        max_length=REASON_MAX_CHARS, material=False,
    ),
    OwnedProperty(
        "health_coverage_percent", "postsale_health_coverage", "Health score coverage", "number", "number",
        "Share of the health score's signal weight that had data, 0-100: a low value is a score on little evidence.",
        minimum=0, maximum=100, integer=True,
    ),
    OwnedProperty(
        "health_components_used", "postsale_health_components_used", "Health components used", "number", "number",
        "Health score components (usage, relationship, business context, sentiment) that had data, 0-4.",
        minimum=0, maximum=4, integer=True,
    ),
    OwnedProperty(
        "previous_health_band", "postsale_previous_health_band", "Previous health band", "enumeration", "select",
        "The health band before the current one (empty when it has not changed in the kept history).",
        options=HEALTH_BANDS,
    ),
    OwnedProperty(
        "health_band_changed_date", "postsale_health_band_since", "Health band since", "date", "date",
        "The first day of the current health band (empty when it has not changed in the kept history).",
    ),
    OwnedProperty(
        "score_date", "postsale_score_date", "Scores as of", "date", "date",
        "The day the values in this group were computed for (sent whenever any of them changes).",
        required=True, change_key=_never,
    ),
)  # fmt: skip

# Present on every row that was ever synced (it is required), so "does any company carry it"
# tells whether reverse ETL has written to this portal before (see sync.first_sync_check).
SENTINEL = next(p for p in PROPERTIES if p.required)
OWNED_NAMES = frozenset(p.name for p in PROPERTIES)
