"""A Slack incoming webhook (`POST /slack/services/{team}/{bot}/{token}`), as Slack answers it.

A valid message (a JSON object with a non-empty `text` or a non-empty `blocks` list) is stored
and answered `200 ok` (text/plain, like Slack). A body that is not JSON, or carries neither, is
`400 invalid_payload`; a `blocks` that is not a list of objects each with a `type`, or more than
50 blocks, `400 invalid_blocks`; a header block's text over 150 characters or a section's over
3000, `400 invalid_blocks` too. The token must be `WEBHOOK_TOKEN` (`404 no_service` otherwise),
so a test can point a client at a dead hook. Messages are kept in the world's database, so
they outlive a server restart; `/_control/slack/messages` lists and clears them. Faults apply
like for any vendor (`"vendor": "slack"`): 429 with `Retry-After`, 5xx bursts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from simulator.server.http import Request, Response
from simulator.server.state import WorldState

TEAM, BOT, WEBHOOK_TOKEN = "T0POSTSALE", "B0ALERTS", "simulatedwebhooktoken"
PATH = f"/services/{TEAM}/{BOT}/{WEBHOOK_TOKEN}"
MAX_BLOCKS = 50
TEXT_LIMITS = {"header": 150, "section": 3000}
DDL = "CREATE TABLE IF NOT EXISTS slack_messages (id INTEGER PRIMARY KEY, received_ms INTEGER, body TEXT)"


def _text(status: int, body: str) -> Response:
    return Response(status, body.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class SlackApi:
    """The incoming webhook; messages stored per world."""

    def __init__(self, state: WorldState):
        self.state = state
        with self.state.lock:
            self.state.conn.execute(DDL)
            self.state.conn.commit()

    def routes(self) -> list[tuple[str, str, Callable[[Request], Response]]]:
        return [("POST", r"/services/(?P<team>[\w-]+)/(?P<bot>[\w-]+)/(?P<token>[\w-]+)", self.receive)]

    def handle(self, req: Request, handler: Callable[[Request], Response]) -> Response:
        return handler(req)

    def receive(self, req: Request) -> Response:
        if (req.params["team"], req.params["bot"], req.params["token"]) != (TEAM, BOT, WEBHOOK_TOKEN):
            return _text(404, "no_service")
        try:
            body = req.json()
        except ValueError:
            return _text(400, "invalid_payload")
        if not isinstance(body, dict):
            return _text(400, "invalid_payload")
        blocks = body.get("blocks")
        if not (isinstance(body.get("text"), str) and body["text"].strip()) and not blocks:
            return _text(400, "invalid_payload")
        if blocks is not None and not _valid_blocks(blocks):
            return _text(400, "invalid_blocks")
        with self.state.lock:
            self.state.conn.execute(
                "INSERT INTO slack_messages (received_ms, body) VALUES (?, ?)",
                (int(time.time() * 1000), json.dumps(body)),
            )
            self.state.conn.commit()
        return _text(200, "ok")

    def messages(self) -> list[dict]:
        with self.state.lock:
            rows = self.state.conn.execute("SELECT body FROM slack_messages ORDER BY id").fetchall()
        return [json.loads(b) for (b,) in rows]

    def clear(self) -> int:
        with self.state.lock:
            n = self.state.conn.execute("DELETE FROM slack_messages").rowcount
            self.state.conn.commit()
        return n


def _valid_blocks(blocks: object) -> bool:
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return False
    for block in blocks:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return False
        limit = TEXT_LIMITS.get(block["type"])
        text = (block.get("text") or {}).get("text") if isinstance(block.get("text"), dict) else None
        if limit and text is not None and len(text) > limit:
            return False
    return True
