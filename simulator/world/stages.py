"""Planted journey stages (DOMAIN.md section 2): flags per stage and the primary stage.

Stages are intervals [start, end) derived from the account story. They overlap (expansion
during adoption), cycle (a merger reopens onboarding), regress (a champion departure or a
budget cut sends a retained account back to adoption) and skip (PLG accounts open expansion
within weeks). `primary_timeline` applies DOMAIN.md's default precedence.
"""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

from simulator.world.ids import add_days

if TYPE_CHECKING:
    from simulator.world.story import AccountStory

STAGES = ("onboarding", "adoption", "retention", "expansion", "renewal", "advocacy")
# Renewal inside its runway > Onboarding until graduated > Expansion with an open
# opportunity > Advocacy > Adoption > Retention.
PRECEDENCE = ("renewal", "onboarding", "expansion", "advocacy", "adoption", "retention")

Interval = tuple[date, date]


def _subtract(spans: list[Interval], holes: list[Interval]) -> list[Interval]:
    out = []
    for s, e in spans:
        pieces = [(s, e)]
        for hs, he in holes:
            nxt = []
            for ps, pe in pieces:
                if he <= ps or hs >= pe:
                    nxt.append((ps, pe))
                    continue
                if ps < hs:
                    nxt.append((ps, hs))
                if he < pe:
                    nxt.append((he, pe))
            pieces = nxt
        out.extend(pieces)
    return [(s, e) for s, e in out if s < e]


def plan_stages(s: AccountStory, r: random.Random, horizon_end: date) -> list[tuple[str, date, date]]:
    """Stage intervals of `s`, all clipped to [start, churn or horizon end)."""
    end = s.churn_date or add_days(horizon_end, 1)
    out: list[tuple[str, date, date]] = []
    onboarding = [(s.start, s.graduation)]
    if s.merger_onboarding:
        onboarding.append(s.merger_onboarding)
    # Regressions: champion left / budget cut after graduation -> back to adoption.
    regressions = []
    for p in s.planted:
        if p.kind in ("champion_left", "budget_cut") and p.on >= s.graduation:
            regressions.append((p.on, add_days(p.on, r.randint(60, 120))))
    adoption = [(s.graduation, s.adoption_end), *regressions]
    retention = _subtract([(s.adoption_end, end)], regressions + onboarding)
    adoption = _subtract(adoption, onboarding)
    expansion = [(d.created, d.close) for d in s.deals if d.kind == "expansion"]
    renewal = [(rn.runway_start, rn.contract_end) for rn in s.renewals]
    # Advocacy: renewed at least once, month 12+ (PLG: month 3+), latest NPS a promoter;
    # lost again on any regression.
    advocacy = []
    renewed = [rn.contract_end for rn in s.renewals if rn.outcome != "churned"]
    if renewed:
        earliest = max(renewed[0], add_days(s.start, 90 if s.self_serve else 365))
        promoters = [d for d, score in s.nps if score >= 9 and d >= earliest]
        if promoters:
            advocacy = _subtract([(promoters[0], end)], regressions + onboarding)
    for name, spans in (
        ("onboarding", onboarding),
        ("adoption", adoption),
        ("retention", retention),
        ("expansion", expansion),
        ("renewal", renewal),
        ("advocacy", advocacy),
    ):
        for a, b in spans:
            a, b = max(a, s.start), min(b, end)
            if a < b:
                out.append((name, a, b))
    out.sort(key=lambda t: (t[1], STAGES.index(t[0])))
    return out


def primary_timeline(stages: list[tuple[str, date, date]]) -> list[tuple[date, date, str, list[str]]]:
    """Run-length timeline: (from, to_exclusive, primary stage, sorted flags) per change."""
    points = sorted({d for _, a, b in stages for d in (a, b)})
    out: list[tuple[date, date, str, list[str]]] = []
    for a, b in zip(points, points[1:], strict=False):
        flags = sorted({n for n, s0, e0 in stages if s0 <= a < e0}, key=STAGES.index)
        if not flags:
            continue
        primary = next(p for p in PRECEDENCE if p in flags)
        if out and out[-1][1] == a and out[-1][2] == primary and out[-1][3] == flags:
            out[-1] = (out[-1][0], b, primary, flags)
        else:
            out.append((a, b, primary, flags))
    return out
