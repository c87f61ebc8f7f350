"""True journey stages (DOMAIN.md section 2): DOMAIN's evidence rules applied to the latent state.

Stages are intervals [start, end) derived from the account story and its latent weekly state,
never from a calendar: onboarding lasts until graduation; adoption turns into retention once
the roll-out is done and engagement holds (`RETENTION_*`) for four weeks in a row, and falls
back to adoption when engagement drops or a champion leaves or a budget cut lands; advocacy
needs a renewal, tenure, a promoter answer and high value with a strong sponsor. Stages
overlap (expansion during adoption), cycle (a merger reopens onboarding), regress and skip
(PLG accounts open expansion within weeks). `primary_timeline` applies DOMAIN.md's default
precedence. The warehouse sees none of the latent state: it must infer stages from usage,
billing and whatever the CSMs typed into the CRM.
"""

from __future__ import annotations

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


# Adoption evidence (DOMAIN: seats active, use cases established, engagement holding).
RETENTION_ADOPTION = 0.7
RETENTION_ENGAGEMENT = 0.5
RETENTION_WEEKS = 4
REGRESSION_ENGAGEMENT = 0.4
REGRESSION_WEEKS = 2
# Advocacy: high value and an engaged sponsor, on top of renewal, tenure and a promoter answer.
ADVOCACY_VALUE = 0.65
ADVOCACY_SPONSOR = 0.55


def _runs(weeks: list[bool], start: date) -> list[Interval]:
    """Intervals of consecutive True weeks (week k = [start + 7k, start + 7k + 7))."""
    out, first = [], None
    for k, on in enumerate([*weeks, False]):
        if on and first is None:
            first = k
        elif not on and first is not None:
            out.append((add_days(start, 7 * first), add_days(start, 7 * k)))
            first = None
    return out


def _retained_weeks(s: AccountStory, onboarding: list[Interval]) -> list[bool]:
    """Per week: is the account past adoption (True) or adopting (False)?"""
    lat = s.latent
    shocks = {lat.week(p.on) for p in s.planted if p.kind in ("champion_left", "budget_cut", "merger")}
    retained, good, bad, out = False, 0, 0, []
    for k in range(len(lat.value)):
        day = add_days(lat.start, 7 * k)
        if any(a <= day < b for a, b in onboarding):
            retained, good, bad = False, 0, 0
            out.append(False)
            continue
        good = good + 1 if lat.adoption[k] >= RETENTION_ADOPTION and lat.engagement[k] >= RETENTION_ENGAGEMENT else 0
        bad = bad + 1 if lat.engagement[k] < REGRESSION_ENGAGEMENT else 0
        if k in shocks or bad >= REGRESSION_WEEKS:
            retained, good = False, 0
        elif good >= RETENTION_WEEKS:
            retained = True
        out.append(retained)
    return out


def plan_stages(s: AccountStory, horizon_end: date) -> list[tuple[str, date, date]]:
    """Stage intervals of `s`, all clipped to [start, churn or horizon end)."""
    end = s.churn_date or add_days(horizon_end, 1)
    lat = s.latent
    out: list[tuple[str, date, date]] = []
    onboarding = [(s.start, s.graduation)]
    if s.merger_onboarding:
        onboarding.append(s.merger_onboarding)
    retained = _retained_weeks(s, onboarding)
    retention = _runs(retained, lat.start)
    adoption = _subtract(_runs([not x for x in retained], lat.start), onboarding)
    s.adoption_end = retention[0][0] if retention else None
    expansion = [(d.created, d.close) for d in s.deals if d.kind == "expansion"]
    renewal = [(rn.runway_start, rn.contract_end) for rn in s.renewals]
    renewed = [rn.contract_end for rn in s.renewals if rn.outcome != "churned"]
    tenure = 90 if s.self_serve else 365
    advocate = []
    for k, is_retained in enumerate(retained):
        day = add_days(lat.start, 7 * k)
        answers = [score for d, score in s.nps if d <= day]
        advocate.append(
            is_retained
            and any(d <= day for d in renewed)
            and (day - s.start).days >= tenure
            and bool(answers)
            and answers[-1] >= 9
            and lat.value[k] >= ADVOCACY_VALUE
            and lat.sponsor[k] >= ADVOCACY_SPONSOR
        )
    advocacy = _runs(advocate, lat.start)
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
