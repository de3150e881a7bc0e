"""POST /gitlab/webhook/: check, store, acknowledge; the work happens in a Celery task.

GitLab disables a hook after a few failed deliveries in a row (4xx included),
so every well-formed, authenticated delivery gets a 202 within milliseconds,
also for events Stagegate does not handle. The endpoint never calls GitLab.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gitlab_sync.exchange import text_hash
from gitlab_sync.inbound import ISSUE_EVENTS, NOTE_EVENTS
from gitlab_sync.models import WebhookDelivery
from gitlab_sync.tasks import process_delivery

log = logging.getLogger(__name__)

STORED_BODY_LIMIT = 64 * 1024


def _token_ok(request: HttpRequest) -> bool:
    expected = settings.GITLAB_WEBHOOK_SECRET
    given = request.headers.get("X-Gitlab-Token", "")
    # No secret configured means no delivery is trusted.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is over ``limit`` bytes (read with a cap, never all of it)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_payload(body: bytes) -> dict | None:
    """The delivery's JSON object, or None for anything the parser refuses (a 400, never a 500).

    Refused: bytes that are not UTF-8, text that is not JSON (NaN and Infinity included), nesting deep
    enough to exhaust the parser's recursion, and any JSON value that is not an object.
    """
    try:
        payload = json.loads(body, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


# GitLab's own limit on an issue description.
DESCRIPTION_MAX_CHARACTERS = 1_048_576


def _mapping(value) -> dict:
    """A nested object of the payload, or {} when GitLab (or anyone) sent something else there."""
    return value if isinstance(value, dict) else {}


def _text(value, limit: int) -> str:
    """A value for a text column: PostgreSQL refuses NUL characters and lone surrogates."""
    text = str(value or "").replace("\x00", "")
    return text.encode("utf-8", errors="replace").decode("utf-8")[:limit]


def _int(value) -> int | None:
    if isinstance(value, bool | float):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def _describe(event: str, payload: dict) -> dict:
    attributes = _mapping(payload.get("object_attributes"))
    kind = _text(payload.get("object_kind"), 50)
    issue = _mapping(payload.get("issue"))
    if kind == "note":
        iid = issue.get("iid")
        note_id = attributes.get("id")
        updated_at = attributes.get("updated_at")
    else:
        iid = attributes.get("iid")
        note_id = None
        updated_at = attributes.get("updated_at")
    project = _mapping(payload.get("project"))
    description = _mapping(payload.get("changes")).get("description") if kind != "note" else None
    description = description if isinstance(description, dict) and "previous" in description else None
    handled = (event in ISSUE_EVENTS and kind in ("issue", "work_item")) or (
        event in NOTE_EVENTS and kind == "note" and attributes.get("noteable_type") == "Issue"
    )
    return {
        "handled": handled,
        "object_kind": kind,
        "action": _text(attributes.get("action"), 50),
        "project_id": _int(project.get("id") or payload.get("project_id") or attributes.get("project_id")),
        "issue_iid": _int(iid),
        "note_id": _int(note_id),
        "actor_username": _text(_mapping(payload.get("user")).get("username"), 255),
        "payload_updated_at": _text(updated_at, 40),
        "description_changed": description is not None,
        # Kept whole (GitLab allows 1,048,576 characters): recovering an overwritten edit needs all of it.
        "description_previous": _text((description or {}).get("previous"), DESCRIPTION_MAX_CHARACTERS),
        "description_current_hash": text_hash(_text(description.get("current"), DESCRIPTION_MAX_CHARACTERS))
        if description
        else "",
    }


@csrf_exempt
@require_POST
def gitlab_webhook(request: HttpRequest) -> HttpResponse:
    if not _token_ok(request):
        log.warning(
            "GitLab webhook refused: wrong or missing X-Gitlab-Token (from %s, event %r)",
            request.META.get("REMOTE_ADDR"),
            request.headers.get("X-Gitlab-Event", ""),
        )
        return JsonResponse({"error": "invalid token"}, status=401)
    body = _read_body(request, settings.GITLAB_WEBHOOK_MAX_BYTES)
    if body is None:
        return JsonResponse({"error": "payload too large"}, status=413)
    payload = parse_payload(body)
    if payload is None:
        return JsonResponse({"error": "malformed JSON"}, status=400)

    event = request.headers.get("X-Gitlab-Event", "")[:100]
    key = request.headers.get("Idempotency-Key") or "sha256:" + hashlib.sha256(body).hexdigest()
    info = _describe(event, payload)
    handled = info.pop("handled")
    text = body.decode("utf-8", errors="replace")
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                idempotency_key=key[:200],
                event=event,
                webhook_uuid=request.headers.get("X-Gitlab-Webhook-UUID", "")[:64],
                event_uuid=request.headers.get("X-Gitlab-Event-UUID", "")[:64],
                instance=request.headers.get("X-Gitlab-Instance", "")[:255],
                user_agent=request.headers.get("User-Agent", "")[:255],
                body=text[:STORED_BODY_LIMIT],
                body_size=len(body),
                status=WebhookDelivery.Status.RECEIVED if handled else WebhookDelivery.Status.IGNORED,
                **info,
            )
            if handled:
                transaction.on_commit(partial(_enqueue, delivery.pk), robust=True)
    except IntegrityError:
        # The same delivery again (GitLab retried, or a resend): acknowledged, not processed twice.
        WebhookDelivery.objects.filter(idempotency_key=key[:200]).update(duplicates=F("duplicates") + 1)
        return JsonResponse({"status": "duplicate"}, status=202)
    return JsonResponse({"status": "accepted" if handled else "ignored"}, status=202)


def _enqueue(delivery_id: int) -> None:
    try:
        process_delivery.apply_async((delivery_id,), retry=False)
    except Exception:
        # The row is stored; the sweep enqueues it once the broker is back.
        log.warning("Could not enqueue webhook delivery %s; the sweep will pick it up", delivery_id)
