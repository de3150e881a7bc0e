"""Posts to a Slack incoming webhook: one JSON POST, no client library needed."""

from __future__ import annotations

import json
import urllib.request

SLACK_TIMEOUT_SECONDS = 10


class SlackError(OSError):
    pass


def post_to_slack(webhook_url: str, text: str) -> None:
    """Post one message; raises SlackError (an OSError, so the task retries) unless Slack answers 2xx."""
    request = urllib.request.Request(
        webhook_url,
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=SLACK_TIMEOUT_SECONDS) as response:  # noqa: S310 - admin-set URL
        if not 200 <= response.status < 300:
            raise SlackError(f"Slack answered {response.status}")
