"""The failure webhook: what it sends, and that a broken receiver never masks the failure."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from pipeline.alerts import notify_failure


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


def _context():
    ti = SimpleNamespace(dag_id="postsale_pipeline", task_id="extract_stripe.customers", try_number=2, run_id="r1")
    return {"ti": ti, "exception": RuntimeError("stripe.customers: failed at page 3: HTTP 500"), "dag_run": None}


def test_webhook_receives_the_failure(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Receiver.received, _Receiver.status = [], 200
        monkeypatch.setenv("POSTSALE_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
        notify_failure(_context())
        (payload,) = _Receiver.received
        assert payload["dag_id"] == "postsale_pipeline" and payload["task_id"] == "extract_stripe.customers"
        assert payload["try_number"] == 2 and "HTTP 500" in payload["error"]
        _Receiver.status = 500  # a failing receiver is logged, not raised
        notify_failure(_context())
        assert len(_Receiver.received) == 2
    finally:
        server.shutdown()


def test_without_webhook_nothing_is_sent(monkeypatch, caplog):
    monkeypatch.delenv("POSTSALE_ALERT_WEBHOOK_URL", raising=False)
    notify_failure(_context())
    assert "extract_stripe.customers failed" in caplog.text
