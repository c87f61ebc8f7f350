"""The planted story of one account: the single source of truth every vendor view derives from.

`plan_account` decides, from the seed alone, everything that happens to an account over its
life: segment, contract terms, onboarding milestones, seat growth and expansion deals,
champion departures, budget cuts, mergers, disengagement and the outcome of every renewal.
The CRM, billing and product-usage generators only *render* this story in each vendor's
shape, so the three sources agree with each other and with the ground truth.

Dynamics follow DOMAIN.md: segment onboarding/adoption durations and renewal runways
(section 1), stages that overlap, cycle, regress and skip (section 2), expansion preceded by
seats approaching the plan limit, churn preceded by disengagement.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from simulator.world import latent
from simulator.world.catalog import (
    INDUSTRIES,
    NAME_PREFIXES,
    NAME_SUFFIXES,
    PLAN_ORDER,
    PLAN_TIERS,
    SEGMENT_MIX,
    SEGMENT_PROFILES,
)
from simulator.world.ids import add_days, add_months, rng, stripe_id
from simulator.world.latent import Latent

# How far back accounts may have started, and how far past as-of the timeline is planned
# (the part past as-of is revealed by time travel).
HISTORY_DAYS = 1095
HORIZON_DAYS = 180


@dataclass
class SeatChange:
    """Subscription quantity/plan from `on` (inclusive) onward; `reason` explains it."""

    on: date
    seats: int
    plan: str
    reason: str  # new | expansion | renewal | contraction | budget_cut | merger


@dataclass
class Deal:
    """A CRM deal: new business, expansion or renewal."""

    kind: str  # newbusiness | expansion | renewal
    created: date
    close: date
    outcome: str  # won | lost | open (open = still open on its close date horizon)
    amount: float  # ARR of the deal in dollars
    seats_after: int


@dataclass
class Renewal:
    """One contract end and what happened there (ground truth for GRR/NRR)."""

    contract_end: date
    runway_start: date
    outcome: str  # renewed | expanded | contracted | churned
    arr_before: float
    arr_after: float
    next_term_months: int
    decided: date | None = None  # the day the customer decided (DECISION_LEAD_DAYS before the end)
    churn_probability: dict[int, float] = field(default_factory=dict)  # latent, at 90/60/30 days


@dataclass
class Planted:
    """A planted business event that moves the account's stage or health."""

    on: date
    kind: str  # champion_left | budget_cut | merger | competitor_demo
    detail: str = ""


@dataclass
class AccountStory:
    """Everything that happens to one account. Dates are UTC calendar days."""

    index: int
    account_id: str  # product-analytics account id
    company_id: str  # HubSpot company id
    customer_id: str  # Stripe customer id
    name: str
    domain: str
    segment: str
    industry: str
    self_serve: bool
    crm_created: date
    start: date  # contract start / self-serve signup
    billing_interval: str
    term_months: int
    # identity-link defects planted on purpose (identity resolution must report them)
    stripe_has_company_link: bool
    stripe_has_account_link: bool
    onboarding_target: date = None  # type: ignore[assignment]
    milestones: dict[str, date | None] = field(default_factory=dict)
    onboarding_delay_reason: str = ""
    graduation: date | None = None
    adoption_end: date | None = None  # first day of retention: adoption evidence met (stages.py)
    seat_changes: list[SeatChange] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    renewals: list[Renewal] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    churn_date: date | None = None  # subscription ended (no access from this day)
    deleted_in_billing: bool = False  # Stripe customer deleted after churn
    nps: list[tuple[date, int]] = field(default_factory=list)
    # stage intervals [start, end) per stage; end None = open past the horizon
    stages: list[tuple[str, date, date | None]] = field(default_factory=list)
    merger_onboarding: tuple[date, date] | None = None
    latent: Latent = None  # type: ignore[assignment]  # the hidden weekly state (simulator.world.latent)

    def seats_on(self, d: date) -> tuple[int, str]:
        """Seats and plan in force on day `d` (the first change applies before start)."""
        seats, plan = self.seat_changes[0].seats, self.seat_changes[0].plan
        for ch in self.seat_changes:
            if ch.on <= d:
                seats, plan = ch.seats, ch.plan
        return seats, plan

    def planted_of(self, kind: str) -> list[Planted]:
        return [p for p in self.planted if p.kind == kind]


def arr_of(seats: int, plan: str) -> float:
    return seats * PLAN_TIERS[plan].yearly_unit_cents / 100


def plan_for(seats: int, allowed: tuple[str, ...]) -> str:
    """Smallest tier whose seat limit covers `seats` (upgrading past the segment's tiers if needed)."""
    for key in PLAN_ORDER[PLAN_ORDER.index(allowed[0]) :]:
        if PLAN_TIERS[key].seat_limit >= seats:
            return key
    return PLAN_ORDER[-1]


def _pick(r: random.Random, weighted: dict[str, float] | tuple[tuple[object, float], ...]):
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    x, acc = r.random(), 0.0
    for value, w in items:
        acc += w
        if x < acc:
            return value
    return items[-1][0]


def plan_account(seed: int, index: int, as_of: date, horizon_days: int = HORIZON_DAYS) -> AccountStory:
    """Plan the whole life of account `index` for a world ending at `as_of` (+ `horizon_days`)."""
    r = rng(seed, "account", index)
    segment = _pick(r, SEGMENT_MIX)
    prof = SEGMENT_PROFILES[segment]
    # Most accounts started before as-of; ~12% start inside the horizon so time travel
    # brings brand-new customers.
    if r.random() < 0.88:
        start = add_days(as_of, -r.randint(1, HISTORY_DAYS))
    else:
        start = add_days(as_of, r.randint(1, horizon_days))
    self_serve = segment == "product_led"
    sales_cycle = (
        0 if self_serve else r.randint(*{"enterprise": (60, 150), "mid_market": (30, 75)}.get(segment, (7, 30)))
    )
    name = f"{r.choice(NAME_PREFIXES)} {r.choice(NAME_SUFFIXES)} {index:05d}"
    story = AccountStory(
        index=index,
        account_id=f"acct_{index:06d}",
        company_id=str(9_000_000_000 + index * 7 + 3),
        customer_id=stripe_id("cus", seed, index),
        name=name,
        domain=f"{name.split()[0].lower()}-{name.split()[1].lower()}-{index:05d}.example.com",
        segment=segment,
        industry=r.choice(INDUSTRIES),
        self_serve=self_serve,
        crm_created=add_days(start, -sales_cycle),
        start=start,
        billing_interval=prof.billing_interval if not (segment == "smb" and r.random() < 0.4) else "year",
        term_months=_pick(r, prof.term_months),
        stripe_has_company_link=r.random() >= 0.04,
        stripe_has_account_link=r.random() >= 0.03,
    )
    horizon_end = add_days(as_of, horizon_days)
    _plan_onboarding(story, r, prof)
    life_end = add_days(horizon_end, 1)
    story.latent = latent.simulate(
        rng(seed, "latent", index), segment, start, story.graduation, life_end, segment in ("enterprise", "mid_market")
    )
    story.planted = [
        Planted(e.on, e.kind, "acquired a company; new teams to onboard" if e.kind == "merger" else "")
        for e in story.latent.events
        if e.on < life_end
    ]
    _plan_life(story, r, prof, horizon_end)
    _plan_nps(story, r, horizon_end)
    from simulator.world.stages import plan_stages  # local import: stages builds on this module

    story.stages = plan_stages(story, horizon_end)
    return story


def _plan_onboarding(s: AccountStory, r: random.Random, prof) -> None:
    """Onboarding milestones; ~20% of accounts slip past target (a named reason)."""
    lo, hi = prof.onboarding_days
    target = r.randint(lo, hi)
    s.onboarding_target = add_days(s.start, target)
    actual = target
    if r.random() < 0.2:
        s.onboarding_delay_reason = r.choice(
            ("integration_blocked", "champion_unavailable", "data_migration_errors", "low_usage")
        )
        actual = target + r.randint(max(3, target // 4), max(10, target // 2) + 30)
    s.graduation = add_days(s.start, actual)
    s.milestones = {
        "kickoff_date": add_days(s.start, 0 if s.self_serve else r.randint(1, 7)),
        "technical_setup_date": add_days(s.start, max(1, int(actual * r.uniform(0.25, 0.5)))),
        "training_complete_date": add_days(s.start, max(1, int(actual * r.uniform(0.5, 0.8)))),
        "first_value_date": add_days(s.start, max(1, int(actual * r.uniform(0.7, 0.95)))),
        "graduation_date": s.graduation,
    }


def _plan_life(s: AccountStory, r: random.Random, prof, horizon_end: date) -> None:
    """Walk contract terms on the latent state: expansions, seat cuts, renewals, churn."""
    lat = s.latent
    seats = r.randint(*prof.seats)
    plan = plan_for(seats, prof.plans)
    s.seat_changes.append(SeatChange(s.start, seats, plan, "new"))
    if not s.self_serve:
        s.deals.append(Deal("newbusiness", s.crm_created, s.start, "won", arr_of(seats, plan), seats))

    for p in s.planted_of("merger"):
        # A merger brings a wave of new seats and sends the account back to onboarding.
        seats = int(seats * r.uniform(1.3, 1.8))
        plan = plan_for(seats, (plan,))
        s.seat_changes.append(SeatChange(p.on, seats, plan, "merger"))
        s.merger_onboarding = (p.on, add_days(p.on, r.randint(30, 75)))

    # Expansion: from 6+ months (PLG: ~2 weeks) an account that gets value and has rolled the
    # product out may open an expansion deal; whether it closes depends on value too.
    first_expansion = add_days(s.start, r.randint(14, 30) if s.self_serve else r.randint(183, 300))
    regress_dates = [p.on for p in s.planted if p.kind in ("champion_left", "budget_cut")]
    weekly = 0.05 if s.self_serve else 0.02
    opened = first_expansion
    while opened < horizon_end:
        st = lat.at(opened)
        if (
            st["value"] >= 0.62
            and st["adoption"] >= 0.5
            and not any(opened - timedelta(days=60) <= d <= opened for d in regress_dates)
            and r.random() < weekly
        ):
            cycle = r.randint(*prof.expansion_cycle_days)
            close = add_days(opened, cycle)
            new_seats = max(seats + 1, int(seats * r.uniform(1.2, 1.6)))
            new_plan = plan_for(new_seats, (plan,))
            won = r.random() < min(0.95, max(0.2, 0.45 + 1.2 * (st["value"] - 0.6)))
            s.deals.append(
                Deal(
                    "expansion",
                    opened,
                    close,
                    "won" if won else "lost",
                    arr_of(new_seats, new_plan) - arr_of(seats, plan),
                    new_seats,
                )
            )
            if won and close < horizon_end:
                seats, plan = new_seats, new_plan
                s.seat_changes.append(SeatChange(close, seats, plan, "expansion"))
            break
        opened = add_days(opened, 7)

    for p in s.planted_of("budget_cut"):
        # A budget cut removes seats at once (Stripe quantity drops mid-term).
        cut = max(1, int(seats * r.uniform(0.5, 0.8)))
        if cut < seats:
            seats = cut
            s.seat_changes.append(SeatChange(p.on, seats, plan, "budget_cut"))
    s.seat_changes.sort(key=lambda c: c.on)

    # Renewal walk. The customer decides DECISION_LEAD_DAYS before the end, drawing from the
    # latent churn probability of that day; the truth keeps it at 90/60/30 days (the oracle).
    term_start, term = s.start, s.term_months
    while True:
        end = add_months(term_start, term)
        if end > horizon_end:
            break
        runway = r.randint(*prof.renewal_runway_days)
        seats_before, plan_before = s.seats_on(add_days(end, -1))
        arr_before = arr_of(seats_before, plan_before)
        probability = {
            lead: round(latent.churn_probability(lat.at(add_days(end, -lead)), s.segment), 4) for lead in (90, 60, 30)
        }
        decided = add_days(end, -latent.DECISION_LEAD_DAYS)
        state = lat.at(decided)
        if r.random() < probability[latent.DECISION_LEAD_DAYS]:
            outcome, seats_after = "churned", 0
        else:
            y = r.random()
            expand = 0.06 + 0.8 * max(0.0, state["value"] - 0.6) + 0.1 * (state["adoption"] > 0.85)
            contract = 0.03 + 0.3 * state["budget"]
            if y < contract:
                outcome, seats_after = "contracted", max(1, int(seats_before * r.uniform(0.6, 0.9)))
            elif y < contract + expand:
                outcome, seats_after = "expanded", max(seats_before + 1, int(seats_before * r.uniform(1.1, 1.5)))
            else:
                outcome, seats_after = "renewed", seats_before
        plan_after = plan_for(seats_after, (plan_before,)) if seats_after else plan_before
        if outcome == "contracted":
            plan_after = plan_before
        arr_after = arr_of(seats_after, plan_after) if seats_after else 0.0
        next_term = 12 if s.term_months == 12 or r.random() < 0.5 else 36
        s.renewals.append(
            Renewal(end, add_days(end, -runway), outcome, arr_before, arr_after, next_term, decided, probability)
        )
        if not s.self_serve:
            # A troubled account (weak sponsor or engagement at the runway start) gets its
            # renewal deal "too late", inside 30 days.
            at_runway = lat.at(add_days(end, -runway))
            late = at_runway["sponsor"] < 0.4 or at_runway["engagement"] < 0.4
            created = add_days(end, -(r.randint(10, 29) if late else runway))
            s.deals.append(
                Deal(
                    "renewal",
                    created,
                    add_days(end, -r.randint(0, 20)),
                    "lost" if outcome == "churned" else "won",
                    arr_after if seats_after else arr_before,
                    seats_after,
                )
            )
        if outcome == "churned":
            s.churn_date = end
            lat.wind_down(decided, end)
            s.deleted_in_billing = r.random() < 0.3
            break
        if seats_after != seats_before or plan_after != plan_before:
            s.seat_changes.append(SeatChange(end, seats_after, plan_after, "renewal"))
        term_start, term = end, next_term
    s.seat_changes.sort(key=lambda c: c.on)
    s.deals.sort(key=lambda d: (d.created, d.kind))


def _plan_nps(s: AccountStory, r: random.Random, horizon_end: date) -> None:
    """Quarterly NPS survey: who answers and what they say follow the latent state."""
    d = add_days(s.start, r.randint(30, 90))
    end = min(horizon_end, s.churn_date or horizon_end)
    while d < end:
        st = s.latent.at(d)
        # Disengaged customers answer surveys less often: silence is a signal too.
        if r.random() < 0.3 + 0.6 * st["engagement"]:
            mood = 0.55 * st["value"] + 0.3 * st["sponsor"] + 0.15 * (1 - st["competition"])
            s.nps.append((d, max(0, min(10, round(r.gauss(1.5 + 9.0 * mood, 1.3))))))
        d = add_days(d, r.randint(80, 100))


def _between(r: random.Random, lo: date, hi: date) -> date:
    span = (hi - lo).days
    return add_days(lo, r.randint(0, max(0, span - 1)))
