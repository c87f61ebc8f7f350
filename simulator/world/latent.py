"""The latent state of one account: what really goes on at the customer, week by week.

Nothing here is observable. Every observable (product events, seats, tickets, NPS, invoices,
deals and the CRM fields a CSM types in) is rendered from this state with noise, lag and
gaps, and the warehouse has to infer the state back. Five dimensions, each in [0, 1]:

- ``value``: value the customer realises from the product (ramps up during onboarding toward
  the account's product fit, then drifts);
- ``engagement``: how much the customer actually uses it (follows value and sponsorship,
  dented by competitive and budget pressure);
- ``sponsor``: strength of the champion and executive sponsor (falls when the champion
  leaves, recovers slowly once a new one is in place);
- ``budget``: budget pressure (macro shocks that decay; a high pressure may cut seats);
- ``competition``: competitive pressure (a competitor demo raises it; it decays).

Plus ``adoption``, how far the account has rolled the product out (seats active, use cases
established), which grows after graduation on the segment's adoption timescale.

The churn probability at any day is a logistic function of the state (`churn_probability`).
A renewal's outcome is drawn from it on the decision day, 30 days before contract end; the
ground truth records it at 90, 60 and 30 days before, as the oracle no model can beat.

The parameters below are the simulator's, chosen so the world looks like a B2B SaaS base
(churn by segment, an oracle AUC at 90 days inside 0.80-0.92); the warehouse's models never
read them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

from simulator.world.ids import add_days

WEEK = 7
# Segment intercepts of the churn logit: base churn per renewal for an average account.
CHURN_INTERCEPT = {"enterprise": -2.6, "mid_market": -2.3, "smb": -1.9, "product_led": -1.6}
# Weight of each dimension in the churn logit (value dominates; see module docstring).
CHURN_WEIGHTS = {"value": 7.0, "engagement": 1.6, "sponsor": 1.8, "budget": 2.4, "competition": 2.2}
CHURN_CENTRE = {"value": 0.55, "engagement": 0.55, "sponsor": 0.6, "budget": 0.25, "competition": 0.1}
DECISION_LEAD_DAYS = 30  # the customer decides to renew or leave this many days before the end


@dataclass
class LatentEvent:
    """A shock drawn from the latent state (or exogenous, like a champion leaving)."""

    on: date
    kind: str  # champion_left | budget_cut | competitor_demo | merger


@dataclass
class Latent:
    """Weekly latent series of one account; week k covers [start + 7k, start + 7k + 7)."""

    start: date
    value: list[float] = field(default_factory=list)
    engagement: list[float] = field(default_factory=list)
    sponsor: list[float] = field(default_factory=list)
    budget: list[float] = field(default_factory=list)
    competition: list[float] = field(default_factory=list)
    adoption: list[float] = field(default_factory=list)
    events: list[LatentEvent] = field(default_factory=list)
    fit: float = 0.0

    DIMENSIONS = ("value", "engagement", "sponsor", "budget", "competition", "adoption")

    def week(self, d: date) -> int:
        return max(0, min(len(self.value) - 1, (d - self.start).days // WEEK))

    def at(self, d: date) -> dict[str, float]:
        k = self.week(d)
        return {name: getattr(self, name)[k] for name in self.DIMENSIONS}

    def usage_intensity(self) -> list[float]:
        """What product usage follows: engagement scaled by how far the roll-out has got."""
        return [round(e * (0.45 + 0.55 * a), 4) for e, a in zip(self.engagement, self.adoption, strict=True)]

    def wind_down(self, decided: date, churn: date) -> None:
        """After a decision to leave, usage fades out toward the contract end."""
        k0, k1 = self.week(decided), self.week(churn)
        for k in range(k0, len(self.engagement)):
            frac = min(1.0, (k - k0 + 1) / max(1, k1 - k0))
            self.engagement[k] = round(self.engagement[k] * (1 - 0.85 * frac), 4)


def churn_probability(state: dict[str, float], segment: str) -> float:
    """The latent probability that the account leaves if it decided in this state."""
    h = CHURN_INTERCEPT[segment]
    h += CHURN_WEIGHTS["value"] * (CHURN_CENTRE["value"] - state["value"])
    h += CHURN_WEIGHTS["engagement"] * (CHURN_CENTRE["engagement"] - state["engagement"])
    h += CHURN_WEIGHTS["sponsor"] * (CHURN_CENTRE["sponsor"] - state["sponsor"])
    h += CHURN_WEIGHTS["budget"] * (state["budget"] - CHURN_CENTRE["budget"])
    h += CHURN_WEIGHTS["competition"] * (state["competition"] - CHURN_CENTRE["competition"])
    return 1 / (1 + math.exp(-h))


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


@dataclass(frozen=True)
class SegmentDynamics:
    adoption_weeks: float  # time constant of the roll-out after graduation
    budget_mean: tuple[float, float]  # range of the account's resting budget pressure
    champion_hazard: float  # per week: the champion leaves (people change jobs)


DYNAMICS = {
    "enterprise": SegmentDynamics(26.0, (0.10, 0.30), 0.0045),
    "mid_market": SegmentDynamics(14.0, (0.12, 0.35), 0.0050),
    "smb": SegmentDynamics(7.0, (0.15, 0.40), 0.0055),
    "product_led": SegmentDynamics(4.0, (0.15, 0.45), 0.0050),
}


def simulate(
    r: random.Random,
    segment: str,
    start: date,
    graduation: date,
    end: date,
    merger_allowed: bool,
) -> Latent:
    """Walk the latent state weekly from `start` to `end` (exclusive), drawing its shocks."""
    dyn = DYNAMICS[segment]
    weeks = max(1, (end - start).days // WEEK + 1)
    grad_week = max(1, (graduation - start).days // WEEK)
    fit = r.gauss(0.0, 1.0)
    fit_target = _clip(0.6 + 0.18 * fit, 0.1, 0.95)
    budget_rest = r.uniform(*dyn.budget_mean)
    lat = Latent(start=start, fit=round(fit, 4))
    value, sponsor, budget, competition = 0.1, r.uniform(0.55, 0.9), budget_rest, 0.03
    engagement, adoption = 0.35, 0.05
    sponsor_rest, champion_back = 0.7, -1
    budget_cut_armed, merger_done = True, False
    for k in range(weeks):
        day = add_days(start, k * WEEK)
        # Product fit drifts slowly: some accounts sour or blossom over the years.
        fit_target = _clip(fit_target + r.gauss(0.0, 0.012), 0.05, 0.97)
        if k < grad_week:
            progress = (k + 1) / grad_week
            value = _clip(0.1 + (fit_target - 0.1) * progress + r.gauss(0, 0.02))
            adoption = _clip(0.05 + 0.25 * progress)
        else:
            value = _clip(value + 0.08 * (fit_target - value) + r.gauss(0, 0.03))
            adoption = _clip(adoption + (min(1.0, 0.2 + fit_target) - adoption) / dyn.adoption_weeks + r.gauss(0, 0.01))
        # Shocks. A champion leaves at an exogenous rate; a replacement arrives 4-13 weeks later.
        if k > 12 and champion_back < 0 and r.random() < dyn.champion_hazard:
            lat.events.append(LatentEvent(day, "champion_left"))
            sponsor = _clip(sponsor - r.uniform(0.35, 0.55))
            adoption = _clip(adoption - r.uniform(0.1, 0.25))
            sponsor_rest, champion_back = 0.25, k + r.randint(4, 13)
        if k == champion_back:
            sponsor_rest, champion_back = r.uniform(0.5, 0.8), -1
        # Budget: macro shocks (about one every 13 years) that decay; high pressure may cut seats.
        if r.random() < 0.0015:
            budget = _clip(budget + r.uniform(0.3, 0.55))
            budget_cut_armed = True
        if k > 16 and budget_cut_armed and budget > 0.6 and r.random() < 0.35:
            lat.events.append(LatentEvent(day, "budget_cut"))
            adoption = _clip(adoption - r.uniform(0.15, 0.3))
            budget_cut_armed = False
        budget = _clip(budget + 0.04 * (budget_rest - budget) + r.gauss(0, 0.015))
        # Competitors circle accounts that get little value.
        if k > 8 and r.random() < 0.0008 + 0.006 * (1 - value):
            lat.events.append(LatentEvent(day, "competitor_demo"))
            competition = _clip(competition + r.uniform(0.35, 0.6))
        competition = _clip(competition + 0.06 * (0.03 - competition) + r.gauss(0, 0.01))
        if merger_allowed and not merger_done and k > grad_week + 4 and r.random() < 0.0006:
            lat.events.append(LatentEvent(day, "merger"))
            adoption = _clip(adoption * 0.7)
            merger_done = True
        sponsor = _clip(sponsor + 0.05 * (sponsor_rest - sponsor) + r.gauss(0, 0.02))
        if k < grad_week:
            target = 0.35 + 0.55 * (k + 1) / grad_week
        else:
            target = 0.2 + 0.85 * value * (0.6 + 0.4 * sponsor) - 0.3 * competition - 0.15 * budget
        engagement = _clip(engagement + 0.4 * (target - engagement) + r.gauss(0, 0.04))
        lat.value.append(round(value, 4))
        lat.engagement.append(round(engagement, 4))
        lat.sponsor.append(round(sponsor, 4))
        lat.budget.append(round(budget, 4))
        lat.competition.append(round(competition, 4))
        lat.adoption.append(round(adoption, 4))
    return lat
