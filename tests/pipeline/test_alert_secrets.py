"""The failure alert never carries a credential, whatever the failed library put in its error."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.alerts import failure_payload


def test_alert_masks_credentials_quoted_by_an_error(monkeypatch):
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-alert-secret")
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://loader:db-alert-secret@db:5432/postsale")
    ti = SimpleNamespace(dag_id="postsale_transform", task_id="reverse_etl_hubspot", try_number=1, run_id="r")
    exc = RuntimeError(
        "request with Bearer pat-na1-alert-secret failed\n"
        "while connected to postgresql://loader:db-alert-secret@db:5432/postsale"
    )

    payload = failure_payload({"ti": ti, "exception": exc})

    for field in ("error", "text"):
        assert "alert-secret" not in payload[field]
        assert "\n" not in payload[field] and "request with Bearer" in payload[field]
