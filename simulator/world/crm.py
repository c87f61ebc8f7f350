"""Render an account story as HubSpot CRM records: companies, contacts, deals, tickets, NPS.

Records are versioned property snapshots (see `store`): a company is re-written when an
onboarding milestone is reached, a scorecard is reassessed, a risk is logged, a contract
renews or the account churns, so `hs_lastmodifieddate` moves the way a real CRM's does.
A quarterly enrichment job touches every live company and contact at the very same
millisecond, reproducing the bulk updates that break naive timestamp paging.

Renewal deals use HubSpot's default pipeline stages, mapped to DOMAIN.md's renewal
timeline: qualifiedtobuy = prep, presentationscheduled = conversation,
decisionmakerboughtin = proposal, contractsent = negotiation, closedwon = signed.
"""

from __future__ import annotations

import random
from datetime import date

from simulator.world.catalog import FIRST_NAMES, LAST_NAMES
from simulator.world.crm_schema import write_property_definitions
from simulator.world.csm import DEFAULT as DEFAULT_CSM
from simulator.world.csm import CsmBehaviour
from simulator.world.ids import add_days, add_months, epoch_s, rng
from simulator.world.people import Person
from simulator.world.store import WorldWriter
from simulator.world.story import AccountStory

OWNER_COUNT = 12
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
TICKET_CATEGORIES = ("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY")


def owner_id(n: int) -> str:
    return str(70_000_000 + n * 13)


def contact_id(s: AccountStory, p: Person) -> str:
    return str(50_000_000_000 + s.index * 10_000 + p.n)


def _ms(d: date, r: random.Random) -> int:
    return epoch_s(d, r.randint(7 * 3600, 19 * 3600)) * 1000


def write_static(w: WorldWriter, seed: int, created_on: date) -> None:
    """Owners (CSMs and AEs) and the property definitions of every object type."""
    r = rng(seed, "owners")
    ts = _ms(created_on, r)
    for n in range(OWNER_COUNT):
        first, last = FIRST_NAMES[(n * 7) % len(FIRST_NAMES)], LAST_NAMES[(n * 5) % len(LAST_NAMES)]
        team = ("Customer Success", "CS-1") if n < 8 else ("Account Executives", "AE-1")
        w.version(
            "hubspot",
            "owners",
            owner_id(n),
            ts,
            ts,
            {
                "firstName": first,
                "lastName": last,
                "email": f"{first.lower()}.{last.lower()}@postsale-demo.example.com",
                "userId": 1_000_000 + n,
                "team": list(team),
            },
        )
    write_property_definitions(w, ts)


def write_account(
    w: WorldWriter,
    seed: int,
    s: AccountStory,
    people: list[Person],
    horizon_end: date,
    csm: CsmBehaviour = DEFAULT_CSM,
) -> None:
    _company(w, seed, s, people, horizon_end, csm)
    _contacts(w, seed, s, people, horizon_end, csm)
    _deals(w, seed, s)
    _tickets(w, seed, s, horizon_end)
    _feedback(w, seed, s, people)


# -- companies -------------------------------------------------------------------------
def _company(
    w: WorldWriter, seed: int, s: AccountStory, people: list[Person], horizon_end: date, csm: CsmBehaviour
) -> None:
    r = rng(seed, "company", s.index)
    created = _ms(s.crm_created, r)
    owner = owner_id(s.index % 8)
    props: dict[str, str | None] = {
        "name": s.name,
        "domain": s.domain,
        "industry": s.industry,
        "country": "United States",
        "numberofemployees": str({"enterprise": 5000, "mid_market": 600, "smb": 60, "product_led": 15}[s.segment]),
        "lifecyclestage": "opportunity" if not s.self_serve else "customer",
        "hubspot_owner_id": owner,
        "customer_segment": s.segment,
        "postsale_account_id": s.account_id,
        "acquisition_channel": "self_serve" if s.self_serve else "sales",
        "customer_status": "prospect" if not s.self_serve else "active",
        "onboarding_status": "not_started",
        "onboarding_target_date": s.onboarding_target.isoformat(),
    }
    if r.random() < 0.5:  # only some CRM records carry the billing id; Stripe metadata is primary
        props["stripe_customer_id"] = s.customer_id
    changes: list[tuple[int, dict]] = [(created, dict(props))]

    def change(d: date, **kw: str | None) -> None:
        changes.append((_ms(d, r), kw))

    change(
        s.start,
        lifecyclestage="customer",
        customer_status="active",
        contract_start_date=s.start.isoformat(),
        contract_end_date=add_months(s.start, s.term_months).isoformat(),
        contract_term_months=str(s.term_months),
        onboarding_status="in_progress",
    )
    ms = s.milestones
    csm_r = rng(seed, "csm", s.index)
    scores = {"technical": 3, "knowledge": 2, "usage": 2, "value": 1, "stakeholder": 6}

    def milestone(happened: date, prop: str, missing: float | None = None, **more: str) -> None:
        # The CSM records a milestone late, sometimes never, sometimes with a wrong date; the
        # scorecard is updated when they get to it either way.
        entry = csm.milestone(csm_r, happened, missing)
        if entry is None:
            change(add_days(happened, csm.lag(csm_r)), **_score_props(scores))
        else:
            recorded, typed = entry
            change(recorded, **{prop: typed.isoformat()}, **more, **_score_props(scores))

    milestone(ms["kickoff_date"], "onboarding_kickoff_date")
    for key, dim in (
        ("technical_setup_date", "technical"),
        ("training_complete_date", "knowledge"),
        ("first_value_date", "value"),
    ):
        scores[dim] = r.randint(8, 10)
        scores["usage"] = min(10, scores["usage"] + r.randint(1, 3))
        milestone(ms[key], f"onboarding_{key}")
    if s.onboarding_delay_reason:
        # The review at the target date finds the blocking dimension red: onboarding is delayed.
        weak = {
            "integration_blocked": "technical",
            "data_migration_errors": "technical",
            "champion_unavailable": "stakeholder",
            "low_usage": "usage",
        }[s.onboarding_delay_reason]
        scores[weak] = r.randint(3, 5)
        change(
            s.onboarding_target,
            onboarding_status="delayed",
            onboarding_delay_reason=s.onboarding_delay_reason,
            **_score_props(scores),
        )
    for dim in scores:
        scores[dim] = max(scores[dim], r.randint(8, 10))
    milestone(s.graduation, "onboarding_graduation_date", csm.graduation_missing, onboarding_status="graduated")
    for p in s.planted:
        flag = {"champion_left": "champion_left", "budget_cut": "budget_cut", "competitor_demo": "competitor"}.get(
            p.kind
        )
        logged = csm.risk_flag_day(csm_r, p.on) if flag else None
        if logged:
            change(logged, csm_risk_flag=flag, competitor_flag="true" if flag == "competitor" else None)
            change(add_days(logged, 120), csm_risk_flag=None, competitor_flag=None)
        if p.kind == "champion_left":
            nxt = [x for x in people if x.champion and x.champion_since and x.champion_since > p.on]
            if nxt:
                change(add_days(nxt[0].champion_since, csm.lag(csm_r)), champion_contact_id=contact_id(s, nxt[0]))
        if p.kind == "merger" and s.merger_onboarding:
            a, b = s.merger_onboarding
            change(
                a,
                onboarding_status="in_progress",
                merger_date=a.isoformat(),
                onboarding_target_date=b.isoformat(),
                onboarding_graduation_date=None,
                numberofemployees=str(int(int(props["numberofemployees"]) * 1.5)),
            )
            change(b, onboarding_status="graduated", onboarding_graduation_date=b.isoformat())
    _false_flags(csm, csm_r, change, s.start, s.churn_date or horizon_end)
    champ = next((x for x in people if x.champion), None)
    if champ:
        change(s.start, champion_contact_id=contact_id(s, champ))
    for rn in s.renewals:
        if rn.outcome == "churned":
            change(rn.contract_end, customer_status="churned", lifecyclestage="other")
        else:
            change(
                rn.contract_end,
                contract_start_date=rn.contract_end.isoformat(),
                contract_end_date=add_months(rn.contract_end, rn.next_term_months).isoformat(),
                contract_term_months=str(rn.next_term_months),
            )
    _bulk_enrichment(changes, s.crm_created, s.churn_date or horizon_end)
    _write_changes(w, "companies", s.company_id, created, changes, horizon_end)


def _false_flags(csm: CsmBehaviour, r: random.Random, change, first: date, last: date) -> None:
    """Risk flags a CSM raises with nothing behind them (a hunch, a misread call)."""
    year = first
    while year < last:
        if r.random() < csm.false_flags_per_year:
            on = add_days(year, r.randint(0, 364))
            if on < last:
                change(on, csm_risk_flag=r.choice(("champion_left", "budget_cut", "competitor")))
                change(add_days(on, r.randint(60, 120)), csm_risk_flag=None)
        year = add_days(year, 365)


def _score_props(scores: dict[str, int]) -> dict[str, str]:
    return {f"onboarding_score_{k}": str(v) for k, v in scores.items()}


def _bulk_enrichment(changes: list[tuple[int, dict]], first: date, last: date) -> None:
    """Quarterly enrichment job: every live record touched at 03:00:00.000 UTC on the 1st."""
    d = date(first.year, ((first.month - 1) // 3) * 3 + 1, 1)
    while d <= last:
        if d > first:
            changes.append((epoch_s(d, 3 * 3600) * 1000, {"last_enrichment_date": d.isoformat()}))
        d = add_months(d, 3)


def _write_changes(w: WorldWriter, otype: str, oid: str, created: int, changes, horizon_end: date) -> None:
    """Write changes as patch versions (None = property cleared); same-instant changes merge."""
    limit = epoch_s(add_days(horizon_end, 1)) * 1000
    merged: dict[int, dict] = {}
    for ts, patch in sorted(changes, key=lambda c: c[0]):
        ts = max(ts, created)
        if ts < limit:
            merged.setdefault(ts, {}).update(patch)
    for ts, patch in merged.items():
        w.version("hubspot", otype, oid, ts, created, patch)


# -- contacts --------------------------------------------------------------------------
def _contacts(
    w: WorldWriter, seed: int, s: AccountStory, people: list[Person], horizon_end: date, csm: CsmBehaviour
) -> None:
    r = rng(seed, "contacts", s.index)
    for p in people:
        if not p.is_contact:
            continue
        cid = contact_id(s, p)
        created = _ms(min(p.joined, max(s.crm_created, p.joined)), r)
        props = {
            "email": p.email,
            "firstname": p.first,
            "lastname": p.last,
            "company": s.name,
            "jobtitle": {
                "admin": "Operations Lead",
                "end_user": "Account Executive",
                "manager": "Sales Manager",
                "executive": "VP Sales",
            }[p.role],
            "postsale_role": p.role,
            "is_champion": "true" if p.champion else "false",
            "is_executive_sponsor": "true" if p.sponsor else "false",
            "associatedcompanyid": s.company_id,
            "lifecyclestage": "customer",
            "hubspot_owner_id": owner_id(s.index % 8),
        }
        changes: list[tuple[int, dict]] = [(created, props)]
        # A departure reaches the CRM late, and sometimes never.
        if p.left and r.random() >= csm.left_date_missing:
            changes.append((_ms(add_days(p.left, csm.lag(r)), r), {"left_company_date": p.left.isoformat()}))
        _bulk_enrichment(changes, p.joined, p.left or s.churn_date or horizon_end)
        _write_changes(w, "contacts", cid, created, changes, horizon_end)
        w.association("companies", s.company_id, "contacts", cid, "company_to_contact", created)
        w.association("contacts", cid, "companies", s.company_id, "contact_to_company", created)


# -- deals -----------------------------------------------------------------------------
def _deals(w: WorldWriter, seed: int, s: AccountStory) -> None:
    r = rng(seed, "deals", s.index)
    for k, d in enumerate(s.deals):
        did = str(60_000_000_000 + s.index * 100 + k)
        created = _ms(d.created, r)
        label = {"newbusiness": "New business", "expansion": "Expansion", "renewal": "Renewal"}[d.kind]
        props = {
            "dealname": f"{s.name} - {label} {d.close.year}",
            "amount": f"{d.amount:.2f}",
            "pipeline": "default",
            "dealstage": DEAL_STAGES[0] if d.kind != "renewal" else DEAL_STAGES[1],
            "closedate": f"{d.close.isoformat()}T17:00:00.000Z",
            "dealtype": "newbusiness" if d.kind == "newbusiness" else "existingbusiness",
            "postsale_deal_kind": {"newbusiness": "new_business"}.get(d.kind, d.kind),
            "hubspot_owner_id": owner_id(s.index % 8 if d.kind == "renewal" else 8 + s.index % 4),
            "seats": str(d.seats_after),
        }
        changes: list[tuple[int, dict]] = [(created, props)]
        span = max(1, (d.close - d.created).days)
        start_stage = DEAL_STAGES.index(props["dealstage"])
        for i, stage in enumerate(DEAL_STAGES[start_stage + 1 :], 1):
            at = add_days(d.created, span * i // (len(DEAL_STAGES) - start_stage))
            changes.append((_ms(at, r), {"dealstage": stage}))
        final = "closedwon" if d.outcome == "won" else "closedlost"
        changes.append((epoch_s(d.close, 17 * 3600) * 1000, {"dealstage": final}))
        _write_changes(w, "deals", did, created, changes, add_days(s.churn_date or d.close, 365))
        w.association("companies", s.company_id, "deals", did, "company_to_deal", created)
        w.association("deals", did, "companies", s.company_id, "deal_to_company", created)


# -- tickets ---------------------------------------------------------------------------
def _tickets(w: WorldWriter, seed: int, s: AccountStory, horizon_end: date) -> None:
    """Support tickets: a Poisson process, busier in onboarding, after shocks and when value is low."""
    from simulator.world.catalog import SEGMENT_PROFILES

    r = rng(seed, "tickets", s.index)
    lo, hi = SEGMENT_PROFILES[s.segment].tickets_per_year
    per_day = r.uniform(lo, hi) / 365
    end = s.churn_date or horizon_end
    d, k = s.start, 0
    while d < end:
        rate = per_day
        if d < s.graduation:
            rate *= 2.5
        hot = any(p.on <= d < add_days(p.on, 60) for p in s.planted)
        if hot:
            rate *= 2.0
        # Customers who get little value run into more friction.
        rate *= 0.5 + 1.5 * (1 - s.latent.at(d)["value"])
        if r.random() < rate:
            tid = str(70_000_000_000 + s.index * 10_000 + k)
            k += 1
            created = _ms(d, r)
            prio = r.choices(("LOW", "MEDIUM", "HIGH", "URGENT"), weights=(30, 40, 22, 8) if hot else (40, 40, 16, 4))[
                0
            ]
            cat = r.choice(TICKET_CATEGORIES)
            props = {
                "subject": f"{cat.replace('_', ' ').title()} #{k}",
                "content": f"{s.name}: {cat.lower().replace('_', ' ')} reported by the customer.",
                "hs_pipeline": "0",
                "hs_pipeline_stage": "1",
                "hs_ticket_priority": prio,
                "hs_ticket_category": cat,
                "hubspot_owner_id": owner_id(s.index % 8),
            }
            days_open = int(r.expovariate(1 / {"URGENT": 1.5, "HIGH": 3, "MEDIUM": 7, "LOW": 12}[prio]))
            changes: list[tuple[int, dict]] = [(created, props)]
            closed = created + days_open * 86_400_000 + r.randint(600_000, 20_000_000)
            changes.append((created + r.randint(300_000, 7_200_000), {"hs_pipeline_stage": "3"}))
            if r.random() < 0.95:
                changes.append(
                    (
                        closed,
                        {"hs_pipeline_stage": "4", "closed_date": _iso(closed), "time_to_close": str(closed - created)},
                    )
                )
            _write_changes(w, "tickets", tid, created, changes, horizon_end)
            w.association("companies", s.company_id, "tickets", tid, "company_to_ticket", created)
            w.association("tickets", tid, "companies", s.company_id, "ticket_to_company", created)
        d = add_days(d, 1)


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# -- NPS feedback submissions ------------------------------------------------------------
def _feedback(w: WorldWriter, seed: int, s: AccountStory, people: list[Person]) -> None:
    r = rng(seed, "feedback", s.index)
    for k, (d, score) in enumerate(s.nps):
        alive = [p for p in people if p.is_contact and p.joined <= d and (p.left is None or p.left > d)]
        if not alive:
            continue
        who = r.choice(alive)
        fid = str(80_000_000_000 + s.index * 1_000 + k)
        created = _ms(d, r)
        sentiment = "PROMOTER" if score >= 9 else "PASSIVE" if score >= 7 else "DETRACTOR"
        props = {
            "hs_survey_type": "NPS",
            "hs_survey_name": "Quarterly NPS",
            "hs_survey_channel": "EMAIL",
            "hs_response_value": str(score),
            "hs_sentiment": sentiment,
            "hs_contact_email_rollup": who.email,
            "hs_submission_name": f"NPS response from {who.first} {who.last}",
        }
        w.version("hubspot", "feedback_submissions", fid, created, created, props)
        cid = contact_id(s, who)
        w.association("contacts", cid, "feedback_submissions", fid, "contact_to_feedback_submission", created)
        w.association("feedback_submissions", fid, "contacts", cid, "feedback_submission_to_contact", created)
