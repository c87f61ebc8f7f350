"""What the latest pipeline run sent outward, for the demo's summary: the CRM company sync, the
playbook tasks and the business alerts, one line each, read from the audit schema."""

from __future__ import annotations

import psycopg

TARGETS = (("hubspot.companies", "companies"), ("hubspot.tasks", "tasks"))


def render_outbound(warehouse_url: str) -> list[str]:
    with psycopg.connect(warehouse_url) as conn:
        if not conn.execute("select to_regclass('audit.crm_sync_runs') is not null").fetchone()[0]:
            return ["sent to the CRM", "  nothing yet: no reverse ETL run in audit.crm_sync_runs"]
        latest = {
            target: detail
            for target, detail in conn.execute(
                """
                select distinct on (target) target, detail from audit.crm_sync_runs
                where not dry_run and detail is not null
                order by target, started_at desc
                """
            ).fetchall()
        }
        alerts = _alerts(conn)
    lines = ["sent to the CRM (latest run of each step; audit.crm_sync_runs)"]
    for target, label in TARGETS:
        run = latest.get(target)
        lines.append(f"  {label:<11} {_describe(label, run) if run else 'not run yet'}")
    lines.append(f"  {'alerts':<11} {alerts}")
    return lines


def _alerts(conn: psycopg.Connection) -> str:
    if not conn.execute("select to_regclass('audit.alert_deliveries') is not null").fetchone()[0]:
        return "none delivered yet (audit.alert_deliveries)"
    day, sent, failed, by_type = conn.execute(
        """
        select max(as_of_date), count(*) filter (where status = 'sent'), count(*) filter (where status = 'failed'),
               string_agg(distinct event_type, ', ')
        from audit.alert_deliveries
        where as_of_date = (select max(as_of_date) from audit.alert_deliveries)
        """
    ).fetchone()
    if day is None:
        return "none delivered yet (audit.alert_deliveries)"
    kinds = f" ({by_type})" if by_type else ""
    return f"{sent} sent to the webhook for {day}, {failed} waiting for a retry{kinds}; audit.alert_deliveries"


def _describe(label: str, run: dict) -> str:
    status = run.get("status")
    if status == "skipped_backfill":
        return f"nothing sent: {run.get('reason')}"
    if status in ("refused", "failed"):
        return f"{status}: {run.get('error')}"
    requests = run.get("requests") or 0
    if label == "companies":
        changed = run.get("changed") or 0
        per_100 = f", {100 * requests / changed:.1f} per 100 changes" if changed else ""
        return (
            f"{status}: {changed} of {run.get('mart_rows', 0)} changed, {run.get('succeeded', 0)} updated, "
            f"{run.get('failed', 0)} failed; {requests} requests{per_100}"
        )
    created = run.get("succeeded") or 0
    per_100 = f", {100 * requests / created:.1f} per 100 tasks" if created else ""
    return (
        f"{status}: {created} created, {run.get('already_created', 0)} of {run.get('mart_rows', 0)} due steps "
        f"created before, {run.get('found_in_hubspot', 0)} found in HubSpot, {run.get('failed', 0)} failed; "
        f"{requests} requests{per_100}"
    )
