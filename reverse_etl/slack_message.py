"""Slack messages (text plus Block Kit blocks) for business alerts: one per alert, or a digest.

The ``text`` is the notification's fallback and what a plain webhook receiver shows; the blocks
carry the account, ARR, owner, what happened, the drivers and a button to the report page.
Slack's limits are respected: a header's text ≤ 150 characters, a section's ≤ 3000, ≤ 50 blocks
per message (a digest is split into several messages when it needs more).
"""

from __future__ import annotations

from decimal import Decimal

HEADER_MAX, SECTION_MAX, BLOCKS_MAX = 150, 3000, 50
DIGEST_PER_MESSAGE = BLOCKS_MAX - 2  # a header and a context block around the alerts


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters, escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arr(value) -> str:
    if value is None:
        return "unknown"
    return f"${Decimal(value):,.0f}"


def report_link(alert: dict, reports_url: str) -> str:
    return f"{reports_url.rstrip('/')}/superset/dashboard/{alert['report_page']}/"


def one_line(alert: dict) -> str:
    owner = alert.get("owner_name") or "no owner"
    return (
        f"{alert['alert_title']}: {alert.get('account_name') or alert['company_id']} "
        f"(ARR {_arr(alert.get('arr_usd'))}, owner {owner}): {alert['event_detail']}"
    )


def alert_message(alert: dict, reports_url: str) -> dict:
    name = alert.get("account_name") or alert["company_id"]
    drivers = alert.get("drivers") or "no driver below target"
    return {
        "text": _cut(one_line(alert), SECTION_MAX),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(f"{alert['alert_title']}: {name}", HEADER_MAX)},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Account*\n{_escape(name)}"},
                    {"type": "mrkdwn", "text": f"*ARR*\n{_arr(alert.get('arr_usd'))}"},
                    {"type": "mrkdwn", "text": f"*Owner*\n{_escape(alert.get('owner_name') or 'no owner')}"},
                    {"type": "mrkdwn", "text": f"*When*\n{alert['event_date']}"},
                ],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(_escape(alert["event_detail"]), SECTION_MAX)}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"*Drivers*: {_escape(drivers)}", SECTION_MAX)},
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the report"},
                        "url": report_link(alert, reports_url),
                    }
                ],
            },
        ],
    }


def digest_messages(alerts: list[dict], as_of: str, reports_url: str) -> list[tuple[list[dict], dict]]:
    """``[(alerts carried, message)]``: the alerts in messages of at most ``DIGEST_PER_MESSAGE``."""
    out = []
    chunks = [alerts[i : i + DIGEST_PER_MESSAGE] for i in range(0, len(alerts), DIGEST_PER_MESSAGE)]
    for n, chunk in enumerate(chunks, start=1):
        part = f" ({n} of {len(chunks)})" if len(chunks) > 1 else ""
        title = f"postsale: {len(alerts)} alerts for {as_of}{part}"
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_MAX)}}]
        for a in chunk:
            link = report_link(a, reports_url)
            line = f"*<{link}|{_escape(a['alert_title'])}>* {_escape(one_line(a).split(': ', 1)[1])}"
            if a.get("drivers"):
                line += f"\n_Drivers_: {_escape(a['drivers'])}"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(line, SECTION_MAX)}})
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Reports: {reports_url}"}]})
        text = _cut(title + "\n" + "\n".join(one_line(a) for a in chunk), SECTION_MAX)
        out.append((chunk, {"text": text, "blocks": blocks}))
    return out
