"""Product usage: per-account profiles (stored) and events (regenerated on demand).

Generation stores one compact profile per account: its users (role, behavioural archetype,
invited/activated/left days, feature adoption order) and its weekly usage *intensity*, drawn
from the account's latent state (`simulator.world.latent`: engagement times roll-out, which
carries the onboarding ramp, the dips after a champion departure, a budget cut, a competitor
or a merger, and the fade-out after a decision to leave). `events_for_day` regenerates that
account's events for one UTC day from an RNG keyed by (seed, account, day): any date range
streams in bounded memory and identical requests return identical events (stable
`$insert_id`s).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date

from simulator.world.catalog import ARCHETYPES, FEATURES, ROLE_ACTIVITY
from simulator.world.ids import epoch_s, hex_id, rng, stream_seed
from simulator.world.people import Person
from simulator.world.store import WorldWriter
from simulator.world.story import AccountStory

_ARCH_MULT = {name: mult for name, _, mult in ARCHETYPES}
_FEATURE_INDEX = {f.key: i for i, f in enumerate(FEATURES)}
LOGIN_EVENT = "Logged In"
LIB_VERSION = "2.55.0"
# Global activity scale: keeps a 10,000-account world well above 10M events per year while
# a month still exports in about a minute.
ACTIVITY_SCALE = 0.7


def _ord(d: date | None) -> int:
    return d.toordinal() if d else -1


def build_profile(seed: int, s: AccountStory, people: list[Person]) -> dict:
    """The stored usage profile of one account (JSON-serialisable, compact)."""
    r = rng(seed, "usage-profile", s.index)
    users = []
    for x in people:
        if not x.is_user:
            continue
        relevant = [i for i, f in enumerate(FEATURES) if x.role in f.roles]
        core = [i for i in relevant if FEATURES[i].core]
        advanced = [i for i in relevant if not FEATURES[i].core]
        r.shuffle(core)
        r.shuffle(advanced)
        users.append(
            {
                "id": x.distinct_id,
                "n": x.n,
                "name": f"{x.first} {x.last}",
                "role": x.role,
                "archetype": x.archetype,
                "champion": x.champion,
                "invited": _ord(x.joined),
                "activated": _ord(x.activated),
                "left": _ord(x.left),
                "features": core + advanced,  # adoption order: initial use case first
                "created": epoch_s(x.joined, r.randint(8 * 3600, 18 * 3600)),
            }
        )
    return {
        "account_id": s.account_id,
        "segment": s.segment,
        "start": _ord(s.start),
        # Weekly usage intensity from the latent state (engagement x roll-out); the warehouse
        # only ever sees the events drawn from it.
        "intensity": s.latent.usage_intensity(),
        "users": users,
    }


def write_account(w: WorldWriter, seed: int, s: AccountStory, people: list[Person]) -> None:
    w.usage_account(s.account_id, s.index, build_profile(seed, s, people))


def engagement(profile: dict, day: int) -> float:
    """Account-level usage multiplier on day ordinal `day`: the latent weekly intensity,
    interpolated between weeks so usage does not jump on week boundaries."""
    weekly = profile["intensity"]
    pos = (day - profile["start"]) / 7
    if pos <= 0:
        return weekly[0]
    k = int(pos)
    if k >= len(weekly) - 1:
        return weekly[-1]
    return weekly[k] + (weekly[k + 1] - weekly[k]) * (pos - k)


def _depth(user: dict, days_active: int) -> int:
    """How many of the user's relevant features are adopted after `days_active` days."""
    total = len(user["features"])
    target = {"power": 0.8, "casual": 0.4, "at_risk": 0.25}.get(user["archetype"], 0.0)
    # Week 1: first 1-2 features; adoption deepens toward the archetype's target by week 12.
    frac = min(1.0, 0.15 + days_active / 84)
    return max(1, min(total, round(total * target * frac)))


def _raw_events(seed: int, profile: dict, day: date) -> list[tuple]:
    """(time, insert_id, event, feature, user, role) for one account-day, sorted by time."""
    d = day.toordinal()
    users = profile["users"]
    if not users or d < profile["start"]:
        return []
    eng = engagement(profile, d)
    if eng <= 0:
        return []
    r = random.Random(stream_seed(seed, "events", profile["account_id"], d))
    rand = r.random
    weekend = day.weekday() >= 5
    base_ts = epoch_s(day)
    out = []
    for u in users:
        act = u["activated"]
        if act < 0 or d < act or (u["left"] >= 0 and d >= u["left"]):
            continue
        p_day, ev_mean, _ = ROLE_ACTIVITY[u["role"]]
        days_active = d - act
        p = p_day * _ARCH_MULT[u["archetype"]] * eng * ACTIVITY_SCALE
        if u["archetype"] == "at_risk":
            p *= max(0.15, 1.0 - days_active / 240)  # at-risk users decline over time
        if weekend:
            p *= 0.12
        if rand() >= p:
            continue
        depth = _depth(u, days_active)
        t = base_ts + int(r.triangular(6 * 3600, 21 * 3600, 13 * 3600))
        n_feature_events = 1 + int(r.expovariate(1.0 / max(0.25, ev_mean / 8)))
        uid, role = u["id"], u["role"]
        out.append((t, hex_id(uid, d, 0, t), LOGIN_EVENT, None, uid, role))
        feats = u["features"]
        for k in range(n_feature_events):
            t += int(r.expovariate(1 / 240)) + 1
            f = FEATURES[feats[min(depth - 1, int(rand() ** 1.6 * depth))]]
            out.append((t, hex_id(uid, d, k + 1, t), f.event, f.key, uid, role))
    out.sort()
    return out


def events_for_day(seed: int, profile: dict, day: date) -> Iterator[dict]:
    """Every event of one account on one UTC day, sorted by time, as Mixpanel export dicts."""
    acct = profile["account_id"]
    for t, iid, name, feature, uid, role in _raw_events(seed, profile, day):
        props = {
            "time": t,
            "distinct_id": uid,
            "$insert_id": iid,
            "account_id": acct,
            "feature": feature,
            "role": role,
            "mp_processing_time_ms": t * 1000 + 1500 + (t % 997),
            "$lib_version": LIB_VERSION,
            "mp_lib": "web",
        }
        yield {"event": name, "properties": props}


def event_lines_for_day(seed: int, profile: dict, day: date) -> list[str]:
    """The same events as `events_for_day`, already serialised as compact JSON lines.

    Formatting by hand is several times faster than `json.dumps` and matters when streaming
    millions of events; every value is generated ASCII without quotes or backslashes, so no
    escaping is needed (a test checks that both paths agree byte for byte).
    """
    acct = profile["account_id"]
    return [
        f'{{"event":"{name}","properties":{{"time":{t},"distinct_id":"{uid}","$insert_id":"{iid}",'
        f'"account_id":"{acct}","feature":{"null" if feature is None else chr(34) + feature + chr(34)},'
        f'"role":"{role}","mp_processing_time_ms":{t * 1000 + 1500 + (t % 997)},'
        f'"$lib_version":"{LIB_VERSION}","mp_lib":"web"}}}}'
        for t, iid, name, feature, uid, role in _raw_events(seed, profile, day)
    ]


def load_profiles(conn) -> list[dict]:
    """All account profiles, in account order (kept in memory by the Mixpanel server)."""
    return [json.loads(p) for (p,) in conn.execute("SELECT profile FROM usage_accounts ORDER BY idx")]
