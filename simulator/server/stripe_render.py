"""Render stored Stripe facts as full API objects (pinned version, "basil" shape).

Key sets follow `specs/stripe/fixtures3.json` exactly: the tests compare every rendered
object's keys and JSON types with that file's example of the same object.
"""

from __future__ import annotations

STRIPE_API_VERSION = "2025-03-31.basil"


def customer(f: dict, deleted: bool = False) -> dict:
    if deleted:
        return {"deleted": True, "id": f["id"], "object": "customer"}
    return {
        "address": {
            "city": None,
            "country": f.get("country"),
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "balance": 0,
        "created": f["created"],
        "currency": "usd",
        "default_source": None,
        "delinquent": f["delinquent"],
        "description": f.get("description"),
        "discount": None,
        "email": f.get("email"),
        "id": f["id"],
        "invoice_prefix": f["invoice_prefix"],
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": f["metadata"],
        "name": f.get("name"),
        "next_invoice_sequence": f.get("next_invoice_sequence", 1),
        "object": "customer",
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def price(f: dict) -> dict:
    return {
        "active": True,
        "billing_scheme": "per_unit",
        "created": f["created"],
        "currency": "usd",
        "custom_unit_amount": None,
        "id": f["id"],
        "livemode": False,
        "lookup_key": f.get("lookup_key"),
        "metadata": f.get("metadata", {}),
        "nickname": f.get("nickname"),
        "object": "price",
        "product": f["product"],
        "recurring": {
            "interval": f["interval"],
            "interval_count": 1,
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        },
        "tax_behavior": "exclusive",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": f["unit_amount"],
        "unit_amount_decimal": str(f["unit_amount"]),
    }


def plan(f: dict) -> dict:
    """The legacy `plan` mirror of a price, still embedded in subscription items."""
    return {
        "active": True,
        "amount": f["unit_amount"],
        "amount_decimal": str(f["unit_amount"]),
        "billing_scheme": "per_unit",
        "created": f["created"],
        "currency": "usd",
        "id": f["id"],
        "interval": f["interval"],
        "interval_count": 1,
        "livemode": False,
        "metadata": f.get("metadata", {}),
        "meter": None,
        "nickname": f.get("nickname"),
        "object": "plan",
        "product": f["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def product(f: dict) -> dict:
    return {
        "active": True,
        "created": f["created"],
        "default_price": f.get("default_price"),
        "description": f.get("description"),
        "id": f["id"],
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": f.get("metadata", {}),
        "name": f["name"],
        "object": "product",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "unit_label": "seat",
        "updated": f["created"],
        "url": None,
        "type": "service",
    }


def _item_price(item: dict) -> dict:
    return {
        "id": item["price"],
        "created": item.get("price_created", 0),
        "product": item["product"],
        "unit_amount": item["unit_amount"],
        "interval": item["interval"],
        "metadata": item.get("metadata", {}),
        "nickname": None,
        "lookup_key": None,
    }


def subscription_item(f: dict) -> dict:
    item = f["item"]
    p = _item_price(item)
    return {
        "created": item["created"],
        "discounts": [],
        "id": item["id"],
        "metadata": {},
        "object": "subscription_item",
        "price": price(p),
        "quantity": item["quantity"],
        "subscription": f["id"],
        "tax_rates": [],
        "plan": plan(p),
        "current_period_end": f["current_period_end"],
        "current_period_start": f["current_period_start"],
        "billing_thresholds": None,
    }


def subscription(f: dict, deleted: bool = False) -> dict:
    return {
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor": f["billing_cycle_anchor"],
        "billing_cycle_anchor_config": None,
        "cancel_at": f.get("cancel_at"),
        "canceled_at": f.get("canceled_at"),
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if f.get("canceled_at") else None,
        },
        "collection_method": f["collection_method"],
        "created": f["created"],
        "currency": "usd",
        "customer": f["customer"],
        "days_until_due": f.get("days_until_due"),
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": f.get("ended_at"),
        "id": f["id"],
        "invoice_settings": {
            "account_tax_ids": None,
            "issuer": {"type": "self"},
            "custom_fields": None,
            "description": None,
            "footer": None,
        },
        "items": {
            "data": [subscription_item(f)],
            "has_more": False,
            "object": "list",
            "url": f"/v1/subscription_items?subscription={f['id']}",
        },
        "latest_invoice": f.get("latest_invoice"),
        "livemode": False,
        "metadata": f.get("metadata", {}),
        "next_pending_invoice_item_invoice": None,
        "object": "subscription",
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": f["start_date"],
        "status": f["status"],
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
        "cancel_at_period_end": f.get("cancel_at_period_end", False),
        "billing_thresholds": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "customer_account": None,
        "managed_payments": {"enabled": False},
        "billing_schedules": [],
    }


def invoice(f: dict, deleted: bool = False) -> dict:
    amount = f["amount"]
    paid = f["status"] == "paid"
    item = f["item"]
    line = {
        "amount": amount,
        "currency": "usd",
        "description": f"{item['quantity']} seat × {item['metadata'].get('tier', '')} (per {item['interval']})",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "id": f["line_id"],
        "invoice": f["id"],
        "livemode": False,
        "metadata": {},
        "object": "line_item",
        "period": {"end": f["period_end"], "start": f["period_start"]},
        "quantity": item["quantity"],
        "subscription": None,
        "pretax_credit_amounts": [],
        "taxes": [],
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": f["subscription"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "pricing": {
            "type": "price_details",
            "unit_amount_decimal": str(item["unit_amount"]),
        },
        "subtotal": amount,
        "quantity_decimal": str(item["quantity"]),
    }
    return {
        "account_country": "US",
        "account_name": "Postsale Demo Inc.",
        "account_tax_ids": None,
        "amount_due": amount,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": f["attempt_count"],
        "attempted": True,
        "auto_advance": f["status"] == "open",
        "automatic_tax": {
            "enabled": False,
            "liability": None,
            "status": None,
            "disabled_reason": None,
            "provider": None,
        },
        "billing_reason": f["billing_reason"],
        "collection_method": f["collection_method"],
        "created": f["created"],
        "currency": "usd",
        "custom_fields": None,
        "customer": f["customer"],
        "customer_address": None,
        "customer_email": None,
        "customer_name": None,
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": f["created"] + 30 * 86400 if f["collection_method"] == "send_invoice" else None,
        "effective_at": f["finalized_at"],
        "ending_balance": 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_demo/{f['id']}",
        "id": f["id"],
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_demo/{f['id']}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {"data": [line], "has_more": False, "object": "list", "url": f"/v1/invoices/{f['id']}/lines"},
        "livemode": False,
        "metadata": f.get("metadata", {}),
        "next_payment_attempt": None if f["status"] != "open" else f["created"] + 3 * 86400,
        "number": f["number"],
        "object": "invoice",
        "on_behalf_of": None,
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": f["period_end"],
        "period_start": f["period_start"],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": f["status"],
        "status_transitions": {
            "finalized_at": f["finalized_at"],
            "marked_uncollectible_at": f.get("uncollectible_at"),
            "paid_at": f.get("paid_at"),
            "voided_at": None,
        },
        "subscription": None,
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "test_clock": None,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "webhooks_delivered_at": f["created"],
        "automatically_finalizes_at": None,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "amount_overpaid": 0,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": f["subscription"]},
            "type": "subscription_details",
        },
        "customer_account": None,
    }


RENDERERS = {
    "customer": customer,
    "subscription": subscription,
    "invoice": invoice,
    "product": lambda f, deleted=False: product(f),
    "price": lambda f, deleted=False: price(f),
}


def event(f: dict, obj: dict) -> dict:
    """A Stripe event; `obj` is the rendered object as of the event."""
    data: dict = {"object": obj}
    if f.get("previous_attributes"):
        data["previous_attributes"] = f["previous_attributes"]
    return {
        "api_version": STRIPE_API_VERSION,
        "created": f["created"],
        "data": data,
        "id": f["id"],
        "livemode": False,
        "object": "event",
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": f["type"],
    }
