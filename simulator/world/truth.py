"""Ground truth written beside the world, for testing the warehouse against the plan.

`ground_truth/accounts.jsonl`: one line per account: identities across the three vendors
(and which links are deliberately missing in Stripe), segment, contract, onboarding
milestones, planted events, ARR changes and renewal outcomes (GRR/NRR are derivable).
`ground_truth/stage_timeline.jsonl`: run-length stage timeline per account: from/to
(exclusive) dates, the primary stage by DOMAIN.md precedence and every stage flag set.
Both include the part of the timeline after as-of that time travel will reveal; filter by
date against the server's clock.
"""

from __future__ import annotations

from pathlib import Path

from simulator.world.catalog import PLAN_TIERS
from simulator.world.stages import primary_timeline
from simulator.world.store import dumps
from simulator.world.story import AccountStory


def billed_arr(seats: int, plan: str, interval: str) -> float:
    """ARR as Stripe bills it: 12 × the monthly price on monthly plans, the yearly price on yearly
    ones (the monthly price is dearer per year, so the list ARR of the deal would overstate it)."""
    tier = PLAN_TIERS[plan]
    return seats * (12 * tier.monthly_unit_cents if interval == "month" else tier.yearly_unit_cents) / 100


TRUTH_README = """# Ground truth of this world (never served by the mock APIs)

- `accounts.jsonl`: one line per account. Planned facts: identities (and which Stripe links
  are missing on purpose), segment, contract, onboarding milestones as they really happened
  (the CRM shows them as the simulated CSMs typed them: late, missing or wrong), shocks
  (`planted_events`), ARR changes, deals, NPS answers, churn. Per renewal: the outcome, the
  day the customer `decided`, and `churn_probability` at 90/60/30 days before the contract
  end. **Latent**: that probability is computed from the hidden state; it is the oracle.
- `stage_timeline.jsonl`: the true journey stage per day range, DOMAIN's evidence rules
  applied to the hidden state (`simulator/world/stages.py`). **Latent**: the warehouse must
  infer it from the observables.
- `latent_weekly.jsonl`: the hidden state itself, one value per week from `week_start`:
  `value`, `engagement`, `sponsor`, `budget`, `competition`, `adoption` (each 0-1) and the
  account's product `fit`. **Latent**: no vendor API exposes any of it.

Everything covers the planned horizon past as-of too: filter by date against the clock.
"""


class TruthWriter:
    """Appends ground-truth lines as accounts are generated (bounded memory)."""

    def __init__(self, out_dir: Path):
        gt = out_dir / "ground_truth"
        gt.mkdir(parents=True, exist_ok=True)
        self._accounts = open(gt / "accounts.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self._timeline = open(gt / "stage_timeline.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        self._latent = open(gt / "latent_weekly.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        (gt / "README.md").write_text(TRUTH_README, encoding="utf-8")

    def write(self, s: AccountStory) -> None:
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        self._accounts.write(
            dumps(
                {
                    "account_id": s.account_id,
                    "hubspot_company_id": s.company_id,
                    "stripe_customer_id": s.customer_id,
                    "stripe_links": {
                        "hubspot_company_id": s.stripe_has_company_link,
                        "product_account_id": s.stripe_has_account_link,
                    },
                    "name": s.name,
                    "segment": s.segment,
                    "self_serve": s.self_serve,
                    "crm_created": iso(s.crm_created),
                    "start": iso(s.start),
                    "term_months": s.term_months,
                    "billing_interval": s.billing_interval,
                    "onboarding": {
                        "target_date": iso(s.onboarding_target),
                        "delay_reason": s.onboarding_delay_reason or None,
                        **{k: iso(v) for k, v in s.milestones.items()},
                    },
                    "adoption_end": iso(s.adoption_end),
                    "planted_events": [{"date": iso(p.on), "kind": p.kind, "detail": p.detail} for p in s.planted],
                    "arr_changes": [
                        {
                            "date": iso(c.on),
                            "reason": c.reason,
                            "seats": c.seats,
                            "plan": c.plan,
                            "arr": billed_arr(c.seats, c.plan, s.billing_interval),
                        }
                        for c in s.seat_changes
                        # Changes planned past the churn never reach billing.
                        if s.churn_date is None or c.on < s.churn_date
                    ]
                    + (
                        [{"date": iso(s.churn_date), "reason": "churn", "seats": 0, "plan": None, "arr": 0.0}]
                        if s.churn_date
                        else []
                    ),
                    "renewals": [
                        {
                            "contract_end": iso(rn.contract_end),
                            "runway_start": iso(rn.runway_start),
                            "outcome": rn.outcome,
                            "arr_before": rn.arr_before,
                            "arr_after": rn.arr_after,
                            "next_term_months": rn.next_term_months if rn.outcome != "churned" else None,
                            "decided": iso(rn.decided),
                            # latent: the oracle no model can beat (simulator.world.latent)
                            "churn_probability": {str(k): v for k, v in rn.churn_probability.items()},
                        }
                        for rn in s.renewals
                    ],
                    "deals": [
                        {
                            "kind": d.kind,
                            "created": iso(d.created),
                            "close": iso(d.close),
                            "outcome": d.outcome,
                            "amount": round(d.amount, 2),
                        }
                        for d in s.deals
                    ],
                    "nps": [{"date": iso(d), "score": score} for d, score in s.nps],
                    "churn_date": iso(s.churn_date),
                    "stripe_customer_deleted": s.deleted_in_billing,
                }
            )
            + "\n"
        )
        for a, b, primary, flags in primary_timeline(s.stages):
            self._timeline.write(
                dumps(
                    {
                        "account_id": s.account_id,
                        "from": iso(a),
                        "to": iso(b),
                        "primary_stage": primary,
                        "stages": flags,
                    }
                )
                + "\n"
            )

        lat = s.latent
        self._latent.write(
            dumps(
                {
                    "account_id": s.account_id,
                    "week_start": iso(lat.start),
                    "fit": lat.fit,
                    **{name: getattr(lat, name) for name in lat.DIMENSIONS},
                }
            )
            + "\n"
        )

    def close(self) -> None:
        self._accounts.close()
        self._timeline.close()
        self._latent.close()
