"""Static catalogue of the simulated business: segments, plan tiers and product features.

Every number that shapes the world's dynamics lives here, next to the DOMAIN.md rule it
comes from, so the generator modules stay free of magic constants.
"""

from __future__ import annotations

from dataclasses import dataclass

SEGMENTS = ("enterprise", "mid_market", "smb", "product_led")

# Share of new accounts per segment (a typical B2B SaaS book: many small, few large).
SEGMENT_MIX = {"enterprise": 0.10, "mid_market": 0.25, "smb": 0.35, "product_led": 0.30}


@dataclass(frozen=True)
class SegmentProfile:
    """Per-segment ranges taken from DOMAIN.md section 1 (durations in days)."""

    onboarding_days: tuple[int, int]
    adoption_days: tuple[int, int]
    renewal_runway_days: tuple[int, int]
    seats: tuple[int, int]
    plans: tuple[str, ...]  # plan tiers this segment buys, smallest first
    term_months: tuple[tuple[int, float], ...]  # (months, probability)
    billing_interval: str  # "year" or "month"
    expansion_cycle_days: tuple[int, int]
    contacts: tuple[int, int]
    tickets_per_year: tuple[int, int]


SEGMENT_PROFILES: dict[str, SegmentProfile] = {
    "enterprise": SegmentProfile(
        onboarding_days=(60, 150),
        adoption_days=(365, 730),
        renewal_runway_days=(120, 180),
        seats=(70, 250),
        plans=("enterprise",),
        term_months=((12, 0.6), (36, 0.4)),
        billing_interval="year",
        expansion_cycle_days=(180, 365),
        contacts=(10, 22),
        tickets_per_year=(12, 40),
    ),
    "mid_market": SegmentProfile(
        onboarding_days=(30, 60),
        adoption_days=(180, 365),
        renewal_runway_days=(60, 90),
        seats=(15, 80),
        plans=("business",),
        term_months=((12, 0.8), (36, 0.2)),
        billing_interval="year",
        expansion_cycle_days=(60, 120),
        contacts=(5, 12),
        tickets_per_year=(6, 20),
    ),
    "smb": SegmentProfile(
        onboarding_days=(7, 30),
        adoption_days=(90, 180),
        renewal_runway_days=(30, 60),
        seats=(3, 25),
        plans=("starter", "growth"),
        term_months=((12, 1.0),),
        billing_interval="month",
        expansion_cycle_days=(7, 14),
        contacts=(3, 6),
        tickets_per_year=(2, 8),
    ),
    "product_led": SegmentProfile(
        onboarding_days=(1, 7),
        adoption_days=(30, 90),
        renewal_runway_days=(14, 30),
        seats=(1, 8),
        plans=("starter", "growth"),
        term_months=((12, 1.0),),
        billing_interval="month",
        expansion_cycle_days=(1, 7),
        contacts=(1, 3),
        tickets_per_year=(0, 4),
    ),
}


@dataclass(frozen=True)
class PlanTier:
    """A Stripe product: one plan tier with its seat limit and per-seat prices (cents)."""

    key: str
    name: str
    seat_limit: int
    monthly_unit_cents: int
    yearly_unit_cents: int  # per seat per year (two months free)


PLAN_TIERS: dict[str, PlanTier] = {
    "starter": PlanTier("starter", "Postsale Starter", 10, 2_500, 25_000),
    "growth": PlanTier("growth", "Postsale Growth", 30, 5_000, 50_000),
    "business": PlanTier("business", "Postsale Business", 120, 9_000, 90_000),
    "enterprise": PlanTier("enterprise", "Postsale Enterprise", 2_000, 15_000, 150_000),
}
PLAN_ORDER = ("starter", "growth", "business", "enterprise")


@dataclass(frozen=True)
class Feature:
    """A product feature; `core` features make up the initial use case."""

    key: str
    event: str
    core: bool
    roles: tuple[str, ...]  # roles for which the feature is relevant (feature depth)


FEATURES: tuple[Feature, ...] = (
    Feature("pipeline", "Pipeline Viewed", True, ("end_user", "manager", "admin")),
    Feature("contacts", "Contact Updated", True, ("end_user", "manager")),
    Feature("tasks", "Task Completed", True, ("end_user", "manager")),
    Feature("email_sync", "Email Synced", True, ("end_user",)),
    Feature("dashboards", "Dashboard Viewed", True, ("manager", "executive", "admin")),
    Feature("reports", "Report Run", False, ("manager", "executive")),
    Feature("forecasting", "Forecast Submitted", False, ("manager", "executive")),
    Feature("automation", "Workflow Automated", False, ("admin", "manager")),
    Feature("integrations", "Integration Configured", False, ("admin",)),
    Feature("api", "API Request", False, ("admin",)),
    Feature("sequences", "Sequence Sent", False, ("end_user",)),
    Feature("user_admin", "User Provisioned", False, ("admin",)),
)

# Per role: probability of being active on a given weekday at full engagement, events per
# active day, and the share of the relevant feature catalogue a fully adopted user reaches.
# Follows DOMAIN.md section 4's role targets (reps daily, managers 3x/week, execs weekly).
ROLE_ACTIVITY = {
    "end_user": (0.85, 6.0, 0.65),
    "admin": (0.70, 5.0, 0.70),
    "manager": (0.55, 4.0, 0.45),
    "executive": (0.20, 2.0, 0.25),
}

# Share of each role among an account's product users.
ROLE_MIX = (("end_user", 0.72), ("manager", 0.14), ("admin", 0.08), ("executive", 0.06))

# Behavioural archetypes (DOMAIN.md section 4 tiers) with an activity multiplier.
ARCHETYPES = (("power", 0.25, 1.15), ("casual", 0.45, 0.55), ("at_risk", 0.20, 0.25), ("never", 0.10, 0.0))

# Generic, neutral company-name parts (no real brands).
NAME_PREFIXES = (
    "Acme",
    "Blue",
    "Cedar",
    "Delta",
    "Ember",
    "Fable",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orbit",
    "Pioneer",
    "Quartz",
    "River",
    "Summit",
    "Tidal",
    "Umber",
    "Vertex",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zephyr",
    "Atlas",
    "Beacon",
    "Cobalt",
    "Drift",
)
NAME_SUFFIXES = (
    "Analytics",
    "Logistics",
    "Health",
    "Foods",
    "Robotics",
    "Capital",
    "Media",
    "Energy",
    "Labs",
    "Systems",
    "Retail",
    "Software",
    "Partners",
    "Manufacturing",
    "Travel",
    "Education",
    "Finance",
)
INDUSTRIES = (
    "COMPUTER_SOFTWARE",
    "FINANCIAL_SERVICES",
    "HOSPITAL_HEALTH_CARE",
    "RETAIL",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MARKETING_AND_ADVERTISING",
    "EDUCATION_MANAGEMENT",
    "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
)
FIRST_NAMES = (
    "Ada",
    "Bilal",
    "Chen",
    "Dara",
    "Elif",
    "Femi",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kira",
    "Luis",
    "Mei",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yusuf",
    "Zara",
    "Aiko",
    "Bruno",
    "Chloe",
    "Dmitri",
    "Esme",
)
LAST_NAMES = (
    "Abe",
    "Banda",
    "Costa",
    "Dubois",
    "Eze",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lee",
    "Mensah",
    "Novak",
    "Okafor",
    "Park",
    "Quispe",
    "Rossi",
    "Sato",
    "Tan",
    "Umeh",
    "Varga",
    "Wong",
    "Yilmaz",
    "Zhou",
)
