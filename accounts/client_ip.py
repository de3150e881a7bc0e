"""The address a request came from, as the login lockout (django-axes) keys it.

Behind a reverse proxy every request's REMOTE_ADDR is the proxy: keyed on that, one attacker's failed logins
would lock a username out for everyone, and a spoofed X-Forwarded-For would let an attacker pick any key.
`TRUSTED_PROXY_COUNT` says how many proxies of ours stand in front of Stagegate; the address the outermost
of them saw is the client. Entries further left in X-Forwarded-For are the client's own words and ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < proxies:
        return remote  # not through all of our proxies: what connected is all we know
    return _address(forwarded[-proxies]) or remote
