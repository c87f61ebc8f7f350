"""The simulated Slack incoming webhook answers as Slack does and keeps what it accepted."""

from __future__ import annotations

import requests


def test_accepts_valid_messages_and_refuses_the_rest_like_slack(fresh_server):
    url = fresh_server.slack_webhook_url()
    ok = requests.post(
        url, json={"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}
    )
    assert (ok.status_code, ok.text) == (200, "ok")
    cases = [
        (url, {"unfurl_links": False}, 400, "invalid_payload"),
        (url, {"text": "t", "blocks": [{"text": "no type"}]}, 400, "invalid_blocks"),
        (url, {"text": "t", "blocks": [{"type": "section"}] * 51}, 400, "invalid_blocks"),
        (
            url,
            {"text": "t", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
            400,
            "invalid_blocks",
        ),
        (url.rsplit("/", 1)[0] + "/wrongtoken", {"text": "t"}, 404, "no_service"),
    ]
    for target, body, status, answer in cases:
        resp = requests.post(target, json=body)
        assert (resp.status_code, resp.text) == (status, answer), body
    assert requests.post(url, data=b"not json", headers={"Content-Type": "application/json"}).text == "invalid_payload"
    assert fresh_server.slack_messages() == [
        {"text": "hello", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}
    ]


def test_control_lists_and_clears_messages(fresh_server):
    requests.post(fresh_server.slack_webhook_url(), json={"text": "one"})
    control = f"{fresh_server.base_url}/_control/slack/messages"
    assert requests.get(control).json() == {"messages": [{"text": "one"}]}
    assert requests.delete(control).json() == {"deleted": 1}
    assert fresh_server.slack_messages() == []


def test_faults_apply_to_the_webhook(fresh_server):
    fresh_server.set_faults([{"kind": "error_burst", "vendor": "slack", "count": 1, "status": 503}])
    url = fresh_server.slack_webhook_url()
    assert requests.post(url, json={"text": "a"}).status_code == 503
    assert requests.post(url, json={"text": "a"}).status_code == 200
    assert len(fresh_server.slack_messages()) == 1
