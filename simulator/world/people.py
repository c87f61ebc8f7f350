"""The people of an account: CRM contacts and product users, derived from the story.

One list serves both vendors so they agree: a person can be a CRM contact, a product user,
or both (same email, which is how the warehouse can match them). Seat dynamics live here:
users are provisioned during onboarding, grow toward the purchased seats before an
expansion, are removed by a budget cut, and all stop at churn. The champion and the
executive sponsor are flagged; a champion departure plants a left date and, weeks later, a
new champion.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from simulator.world.catalog import ARCHETYPES, FIRST_NAMES, LAST_NAMES, ROLE_MIX, SEGMENT_PROFILES
from simulator.world.ids import add_days, rng
from simulator.world.story import AccountStory


@dataclass
class Person:
    """A contact and/or product user of one account."""

    n: int
    first: str
    last: str
    email: str
    role: str  # admin | end_user | manager | executive
    archetype: str  # power | casual | at_risk | never
    joined: date  # CRM contact created / product user invited
    activated: date | None  # first meaningful action (None: never activated)
    left: date | None  # left the company / removed from the product
    is_contact: bool
    is_user: bool
    champion: bool = False
    sponsor: bool = False
    champion_since: date | None = None

    @property
    def distinct_id(self) -> str:
        return self.email


def _role(r: random.Random) -> str:
    x, acc = r.random(), 0.0
    for role, w in ROLE_MIX:
        acc += w
        if x < acc:
            return role
    return ROLE_MIX[-1][0]


def _archetype(r: random.Random, role: str) -> str:
    x, acc = r.random(), 0.0
    for name, w, _ in ARCHETYPES:
        acc += w
        if x < acc:
            return name
    return "casual"


def build_people(seed: int, s: AccountStory) -> list[Person]:
    """All people of account `s` over its whole planned life (deterministic)."""
    r = rng(seed, "people", s.index)
    end = s.churn_date
    people: list[Person] = []
    domain = s.domain

    def add(
        role: str,
        joined: date,
        *,
        contact: bool,
        user: bool = True,
        archetype: str | None = None,
        active_after: int | None = None,
    ) -> Person:
        n = len(people)
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        arch = archetype or _archetype(r, role)
        activated = None
        if user and arch != "never":
            activated = add_days(joined, active_after if active_after is not None else int(r.expovariate(1 / 3)))
        p = Person(
            n,
            first,
            last,
            f"{first.lower()}.{last.lower()}.{n}@{domain}",
            role,
            arch,
            joined,
            activated,
            None,
            contact,
            user,
        )
        people.append(p)
        return p

    prof = SEGMENT_PROFILES[s.segment]
    # Champion (a power-user admin) and, for sales-led accounts, an executive sponsor.
    champ = add("admin", s.start, contact=True, archetype="power", active_after=0)
    champ.champion, champ.champion_since = True, s.start
    if not s.self_serve:
        sponsor = add("executive", s.crm_created, contact=True, user=r.random() < 0.6, archetype="casual")
        sponsor.sponsor = True
    # Initial provisioning: 60-90% of the purchased seats, invited over the onboarding period.
    seats0 = s.seat_changes[0].seats
    onboarding_days = max(1, (s.graduation - s.start).days)
    for _ in range(max(0, round(seats0 * r.uniform(0.6, 0.9)) - 1)):
        add(_role(r), add_days(s.start, int(r.random() ** 2 * onboarding_days)), contact=False)
    # Seat growth toward the purchased seats in the 90 days before each expansion deal opens,
    # and fill-up after seats are added (expansion, merger, expanded renewal).
    for deal in s.deals:
        if deal.kind == "expansion":
            seats, _ = s.seats_on(deal.created)
            _grow_to(people, add, r, int(seats * 0.97), add_days(deal.created, -90), deal.created)
    for ch in s.seat_changes[1:]:
        if ch.reason in ("expansion", "merger", "renewal") and ch.seats > seats0:
            _grow_to(people, add, r, int(ch.seats * r.uniform(0.75, 0.9)), ch.on, add_days(ch.on, 60))
        if ch.reason in ("budget_cut", "renewal") and ch.seats < _active_count(people, ch.on):
            _shrink_to(people, r, ch.seats, ch.on)
    # Champion departure: the champion leaves; a new champion emerges 30-90 days later.
    for p in s.planted_of("champion_left"):
        current = [x for x in people if x.champion and (x.left is None or x.left > p.on) and x.joined <= p.on]
        for c in current:
            c.left = p.on
        new_on = add_days(p.on, r.randint(30, 90))
        if end is None or new_on < end:
            nc = add("admin", new_on, contact=True, archetype="power", active_after=r.randint(0, 5))
            nc.champion, nc.champion_since = True, new_on
    # Natural attrition and contacts that are not product users.
    for x in people:
        if x.left is None and not x.champion and r.random() < 0.08:
            x.left = add_days(x.joined, r.randint(60, 700))
    lo, hi = prof.contacts
    want = r.randint(lo, hi)
    users = [x for x in people if x.is_user and not x.is_contact]
    r.shuffle(users)
    for x in sorted(users[: max(0, want - sum(x.is_contact for x in people))], key=lambda x: x.n):
        x.is_contact = True
    if end is not None:
        for x in people:
            if x.left is None or x.left > end:
                x.left = end
    for x in people:
        if x.activated and x.left and x.activated >= x.left:
            x.activated = None
    return people


def _active_count(people: list[Person], on: date) -> int:
    return sum(1 for x in people if x.is_user and x.joined <= on and (x.left is None or x.left > on))


def _grow_to(people, add, r: random.Random, target: int, start: date, stop: date) -> None:
    span = max(1, (stop - start).days)
    missing = target - _active_count(people, stop)
    for _ in range(max(0, missing)):
        add(_role(r), add_days(start, r.randint(0, span - 1)), contact=False)


def _shrink_to(people: list[Person], r: random.Random, target: int, on: date) -> None:
    alive = [x for x in people if x.is_user and not x.champion and x.joined <= on and (x.left is None or x.left > on)]
    r.shuffle(alive)
    for x in alive[: max(0, len(alive) + 1 - target)]:
        x.left = on
