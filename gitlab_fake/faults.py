"""Failures the fake GitLab can be told to produce, per route, for N requests or a while."""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from werkzeug.wrappers import Response


@dataclass
class Fault:
    """One injected failure.

    ``route`` is a route name or glob (``"issues.edit"``, ``"issues.*"``,
    ``"*"``); ``method`` optionally narrows it. ``times`` counts matching
    requests (None: unlimited); ``until`` is a ``time.monotonic()`` deadline.
    ``status`` is the HTTP status to answer; ``hang`` sleeps that many seconds
    first, then the request is processed normally when ``status`` is None
    (a slow GitLab whose write lands after the client gave up); ``reset``
    closes the connection without answering.
    """

    route: str = "*"
    method: str | None = None
    status: int | None = 500
    times: int | None = 1
    until: float | None = None
    retry_after: int = 1
    hang: float = 0.0
    reset: bool = False  # drop the connection without an answer
    location: str = ""  # with a 301/302: where to
    spam: bool = False  # with a 409: the spam check wants a CAPTCHA
    hits: int = 0

    def matches(self, route: str, method: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return fnmatch.fnmatchcase(route, self.route)

    def expired(self) -> bool:
        if self.times is not None and self.hits >= self.times:
            return True
        return self.until is not None and time.monotonic() >= self.until

    def response(self) -> Response | None:
        if self.status is None:
            return None
        if self.status == 429:
            reset = int(time.time()) + self.retry_after
            headers = {
                "Retry-After": str(self.retry_after),
                "RateLimit-Limit": "60",
                "RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Observed": "67",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-ResetTime": formatdate(reset, usegmt=True),
            }
            return Response("Retry later\n", status=429, headers=headers, mimetype="text/plain")
        if self.status in (301, 302):
            return Response("", status=self.status, headers={"Location": self.location})
        if self.status == 409 and self.spam:
            # SpammableActions::CaptchaCheck::RestApiActionsSupport: render_structured_api_error!(…, 409)
            body = {
                "error": "Your issue has been recognized as spam. Please, change the content or solve the reCAPTCHA.",
                "needs_captcha_response": True,
                "spam_log_id": 42,
                "captcha_site_key": "6Lc-fake-site-key",
            }
            return Response(json.dumps(body), status=409, mimetype="application/json")
        messages = {
            409: "409 Conflict: Resource lock",
            404: "404 Issue Not Found",
            500: "500 Internal Server Error",
            502: "502 Bad Gateway",
            503: "503 Service Unavailable",
        }
        message = messages.get(self.status, f"{self.status} Error")
        return Response(json.dumps({"message": message}), status=self.status, mimetype="application/json")


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, route: str, method: str) -> Fault | None:
        """The first live fault matching this request, its hit counted."""
        with self._lock:
            self._faults = [f for f in self._faults if not f.expired()]
            for fault in self._faults:
                if fault.matches(route, method):
                    fault.hits += 1
                    return fault
        return None
