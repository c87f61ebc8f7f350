"""Render an account story as Stripe objects (customers, subscriptions, invoices, events).

Each object is written as versions of compact *facts*; `simulator.server.stripe_render`
turns facts into the full API shape. Every version also yields a Stripe event
(`customer.created`, `customer.subscription.updated`, `invoice.payment_failed`, ...), so the
events endpoint and the object lists always tell the same story.
"""

from __future__ import annotations

from datetime import date

from simulator.world.catalog import PLAN_TIERS
from simulator.world.ids import add_days, add_months, epoch_s, rng, stripe_id
from simulator.world.store import WorldWriter
from simulator.world.story import AccountStory


def _ms(d: date, r) -> int:
    """A business-hours timestamp (ms) on day `d`."""
    return epoch_s(d, r.randint(8 * 3600, 19 * 3600)) * 1000


def write_account(w: WorldWriter, seed: int, s: AccountStory, horizon_end: date) -> None:
    """All Stripe objects of one account, each version paired with its Stripe events."""
    BillingHistory(w, seed, s, horizon_end).write()


class BillingHistory:
    """Builds the customer/subscription/invoice timelines of one account, then writes them.

    Changes are collected as (ts, patch, event type) per object and folded in time order,
    so every version gets its event with `previous_attributes`, like Stripe's.
    """

    def __init__(self, w: WorldWriter, seed: int, s: AccountStory, horizon_end: date):
        self.w, self.seed, self.s = w, seed, s
        self.r = rng(seed, "billing", s.index)
        self.limit = epoch_s(add_days(horizon_end, 1)) * 1000
        self.cust: list[tuple[int, dict, str]] = []
        self.sub: list[tuple[int, dict, str]] = []
        self.sub_id = stripe_id("sub", seed, s.index)
        self.item_id = stripe_id("si", seed, s.index)

    def write(self) -> None:
        s, r = self.s, self.r
        created = _ms(s.start, r)
        self._customer(created)
        self._subscription(created + 60_000)
        self._fold("customer", s.customer_id, created, self.cust)
        self._fold("subscription", self.sub_id, created + 60_000, self.sub)

    # -- customer ----------------------------------------------------------------------
    def _customer(self, created: int) -> None:
        s = self.s
        metadata = {"segment": s.segment}
        # Deliberate identity defects: a few customers lack the CRM or product link.
        if s.stripe_has_company_link:
            metadata["hubspot_company_id"] = s.company_id
        if s.stripe_has_account_link:
            metadata["product_account_id"] = s.account_id
        self.cust.append(
            (
                created,
                {
                    "id": s.customer_id,
                    "created": created // 1000,
                    "name": s.name,
                    "email": f"billing@{s.domain}",
                    "description": f"{s.segment} customer",
                    "metadata": metadata,
                    "delinquent": False,
                    "invoice_prefix": s.customer_id[4:12].upper(),
                    "country": "US",
                    "next_invoice_sequence": 1,
                },
                "customer.created",
            )
        )
        # The billing contact changes when the champion leaves.
        for p in s.planted_of("champion_left"):
            if not s.churn_date or p.on < s.churn_date:
                self.cust.append((_ms(p.on, self.r), {"email": f"finance@{s.domain}"}, "customer.updated"))
        if s.deleted_in_billing and s.churn_date:
            self.cust.append((_ms(add_days(s.churn_date, 30), self.r), {"__deleted": True}, "customer.deleted"))

    # -- subscription and invoices ---------------------------------------------------------
    def _item(self, seats: int, plan: str, created: int) -> dict:
        tier = PLAN_TIERS[plan]
        interval = self.s.billing_interval
        return {
            "id": self.item_id,
            "created": created // 1000,
            "price": stripe_id("price", self.seed, plan, interval),
            "product": stripe_id("prod", self.seed, plan),
            "unit_amount": tier.monthly_unit_cents if interval == "month" else tier.yearly_unit_cents,
            "interval": interval,
            "quantity": seats,
            "price_created": 0,
            "metadata": {"tier": plan, "seat_limit": str(tier.seat_limit)},
        }

    def _subscription(self, created: int) -> None:
        s, r = self.s, self.r
        seats, plan = s.seats_on(s.start)
        months = 1 if s.billing_interval == "month" else 12
        item = self._item(seats, plan, created)
        base = {
            "id": self.sub_id,
            "customer": s.customer_id,
            "created": created // 1000,
            "start_date": created // 1000,
            "billing_cycle_anchor": created // 1000,
            "status": "active",
            "cancel_at_period_end": False,
            "cancel_at": None,
            "canceled_at": None,
            "ended_at": None,
            "collection_method": "charge_automatically" if s.segment in ("smb", "product_led") else "send_invoice",
            "days_until_due": None if s.segment in ("smb", "product_led") else 30,
            "metadata": {"hubspot_company_id": s.company_id, "contract_term_months": str(s.term_months)},
            "item": item,
            "current_period_start": created // 1000,
            "current_period_end": epoch_s(add_months(s.start, months)) + (created // 1000 - epoch_s(s.start)),
            "latest_invoice": None,
        }
        self.sub.append((created, base, "customer.subscription.created"))
        # Seat and plan changes (expansion, merger, budget cut, renewal) update the item.
        for ch in s.seat_changes[1:]:
            ts = _ms(ch.on, r)
            self.sub.append((ts, {"item": self._item(ch.seats, ch.plan, created)}, "customer.subscription.updated"))
        # Churn: cancellation is scheduled inside the renewal runway, effective at contract end.
        if s.churn_date:
            rn = s.renewals[-1]
            # The customer gives notice within three weeks of deciding to leave.
            notice = min(add_days(rn.decided, r.randint(0, 20)), add_days(s.churn_date, -7))
            end_s = epoch_s(s.churn_date, 0)
            self.sub.append(
                (
                    _ms(notice, r),
                    {"cancel_at_period_end": True, "cancel_at": end_s, "canceled_at": _ms(notice, r) // 1000},
                    "customer.subscription.updated",
                )
            )
            self.sub.append((end_s * 1000, {"status": "canceled", "ended_at": end_s}, "customer.subscription.deleted"))
        # Billing periods and their invoices.
        k, period_start = 0, s.start
        stop = s.churn_date or date.max
        anchor_offset = created // 1000 - epoch_s(s.start)
        delinquent_until = -1
        while period_start < stop:
            ps_ts = epoch_s(period_start) + anchor_offset
            if ps_ts * 1000 >= self.limit:
                break
            period_end = add_months(period_start, months)
            pe_ts = epoch_s(period_end) + anchor_offset
            if k:
                self.sub.append(
                    (
                        ps_ts * 1000,
                        {"current_period_start": ps_ts, "current_period_end": pe_ts},
                        "customer.subscription.updated",
                    )
                )
            seats, plan = s.seats_on(period_start)
            inv_id = stripe_id("in", self.seed, s.index, k)
            failed_until = self._invoice(k, inv_id, seats, plan, period_start, ps_ts, pe_ts)
            self.sub.append((ps_ts * 1000 + 3_600_000, {"latest_invoice": inv_id}, "customer.subscription.updated"))
            if failed_until and ps_ts * 1000 > delinquent_until:
                fail_ts = ps_ts * 1000 + 3_600_000 + 2
                self.cust.append((fail_ts, {"delinquent": True}, "customer.updated"))
                self.sub.append((fail_ts, {"status": "past_due"}, "customer.subscription.updated"))
                if failed_until > 0:
                    self.cust.append((failed_until, {"delinquent": False}, "customer.updated"))
                    self.sub.append((failed_until, {"status": "active"}, "customer.subscription.updated"))
                    delinquent_until = failed_until
            k += 1
            period_start = period_end

    def _invoice(self, k: int, inv_id: str, seats: int, plan: str, period_start: date, ps: int, pe: int) -> int:
        """Write one invoice; returns 0 if paid at once, the recovery ts (ms) if it failed
        and was paid later, or -1 if it was marked uncollectible."""
        s, r = self.s, self.r
        item = self._item(seats, plan, 0)
        amount = item["unit_amount"] * seats
        # Payments fail more often under budget pressure (latent, at the period start).
        pressure = s.latent.at(period_start)["budget"]
        fails = r.random() < 0.015 + 0.25 * pressure
        created = ps * 1000 + 3_600_000
        facts = {
            "id": inv_id,
            "customer": s.customer_id,
            "subscription": self.sub_id,
            "created": created // 1000,
            "period_start": ps,
            "period_end": pe,
            "number": f"{s.customer_id[4:12].upper()}-{k + 1:04d}",
            "billing_reason": "subscription_create" if k == 0 else "subscription_cycle",
            "collection_method": "charge_automatically" if s.segment in ("smb", "product_led") else "send_invoice",
            "amount": amount,
            "line_id": stripe_id("il", self.seed, s.index, k),
            "item": item,
            "status": "open" if fails else "paid",
            "attempt_count": 1,
            "paid_at": None if fails else created // 1000 + 5,
            "finalized_at": created // 1000 + 1,
            "uncollectible_at": None,
            "metadata": {},
        }
        versions = [
            (
                created,
                dict(facts),
                ["invoice.created", "invoice.finalized", "invoice.payment_failed" if fails else "invoice.paid"],
            )
        ]
        result = 0
        if fails:
            if r.random() < 0.8:
                paid = created + r.randint(2, 10) * 86_400_000
                facts.update(status="paid", attempt_count=r.randint(2, 4), paid_at=paid // 1000)
                versions.append((paid, dict(facts), ["invoice.paid"]))
                result = paid
            else:
                lost = created + 21 * 86_400_000
                facts.update(status="uncollectible", attempt_count=4, uncollectible_at=lost // 1000)
                versions.append((lost, dict(facts), ["invoice.marked_uncollectible"]))
                result = -1
        prev: dict = {}
        for ts, body, types in versions:
            if ts >= self.limit:
                break
            self.w.version(
                "stripe", "invoice", inv_id, ts, created, {k: v for k, v in body.items() if prev.get(k) != v}
            )
            for j, t in enumerate(types):
                # invoice.created/finalized/paid share one version but get distinct times.
                self._event(ts, t, "invoice", inv_id, _diff(prev, body), offset=j)
            prev = body
        return result

    # -- folding and events ------------------------------------------------------------
    def _fold(self, otype: str, oid: str, created: int, changes: list[tuple[int, dict, str]]) -> None:
        """Write each change as a patch version plus its event; same-ts changes share a version."""
        state: dict = {}
        for ts, patch, etype in sorted(changes, key=lambda c: c[0]):
            if ts >= self.limit:
                break
            if patch.get("__deleted"):
                self.w.version("stripe", otype, oid, ts, created, {}, deleted=True)
                self._event(ts, etype, otype, oid, None, deleted=True)
                continue
            before = state
            state = {**state, **patch}
            self.w.version("stripe", otype, oid, ts, created, patch)
            self._event(ts, etype, otype, oid, _diff(before, state))

    def _event(
        self, ts: int, etype: str, otype: str, oid: str, previous: dict | None, deleted: bool = False, offset: int = 0
    ) -> None:
        """A Stripe event pointing at the object version it reports (rendered on read)."""
        eid = stripe_id("evt", self.seed, oid, ts, etype, length=24)
        ets = ts + offset
        body = {
            "type": etype,
            "object_type": otype,
            "object_id": oid,
            "object_ts": ts,
            "deleted": deleted,
            "previous_attributes": previous,
        }
        self.w.version("stripe", "event", eid, ets, ets, body)


def _diff(before: dict, after: dict) -> dict | None:
    """Stripe's `previous_attributes`: old values of the keys that changed."""
    if not before:
        return None
    return {k: before.get(k) for k in after if before.get(k) != after.get(k)}


def write_catalog(w: WorldWriter, seed: int, created_on: date) -> None:
    """Products (one per plan tier, seat limit in metadata) and their monthly/yearly prices."""

    r = rng(seed, "stripe-catalog")
    ts = _ms(created_on, r)
    for tier in PLAN_TIERS.values():
        prod = stripe_id("prod", seed, tier.key)
        prices = {interval: stripe_id("price", seed, tier.key, interval) for interval in ("month", "year")}
        w.version(
            "stripe",
            "product",
            prod,
            ts,
            ts,
            {
                "id": prod,
                "created": ts // 1000,
                "name": tier.name,
                "description": f"{tier.name}: up to {tier.seat_limit} seats",
                "default_price": prices["month"],
                "metadata": {"tier": tier.key, "seat_limit": str(tier.seat_limit)},
            },
        )
        for interval, pid in prices.items():
            unit = tier.monthly_unit_cents if interval == "month" else tier.yearly_unit_cents
            w.version(
                "stripe",
                "price",
                pid,
                ts,
                ts,
                {
                    "id": pid,
                    "created": ts // 1000,
                    "product": prod,
                    "unit_amount": unit,
                    "interval": interval,
                    "lookup_key": f"{tier.key}_{interval}ly",
                    "nickname": f"{tier.name} ({interval}ly, per seat)",
                    "metadata": {"tier": tier.key, "seat_limit": str(tier.seat_limit)},
                },
            )
