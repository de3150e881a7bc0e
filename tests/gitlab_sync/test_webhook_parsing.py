"""Whatever body an authenticated sender posts, the webhook answers 202, 400 or 413: never a 500.

GitLab disables a hook that keeps failing; a 500 would also hide which deliveries were garbage.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitlab_sync.models import WebhookDelivery
from tests.gitlab_sync.conftest import WEBHOOK_SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.gitlab_sync.urls")]

URL = "/gitlab/webhook/"
HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None), max_size=20) | st.sampled_from(
    ["\x00", "\ud800", "a\u202eb", "\u2028", "\ufeff", "💥" * 3, "-1" * 40]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=12,
)
KEYS = ["object_kind", "object_attributes", "issue", "project", "project_id", "user"]
PAYLOADS = st.dictionaries(st.sampled_from(KEYS), JSON_VALUES)


@pytest.fixture(autouse=True)
def secret(settings):
    settings.GITLAB_WEBHOOK_SECRET = WEBHOOK_SECRET


def post(client, body: bytes, key: str):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_GITLAB_TOKEN=WEBHOOK_SECRET,
        HTTP_X_GITLAB_EVENT="Issue Hook",
        HTTP_IDEMPOTENCY_KEY=key,
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deep enough to exhaust the parser's recursion
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"NaN",
        b'{"object_kind": NaN}',
        b'{"object_kind": Infinity}',
        b"\xff\xfe{}",
        b"[]",
        b'"issue"',
        b"",
        b'{"object_kind": "issue"',
    ],
)
def test_what_the_parser_refuses_is_a_400(client, body):
    response = post(client, body, "refused")
    assert response.status_code == 400
    assert response.json() == {"error": "malformed JSON"}
    assert not WebhookDelivery.objects.exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=PAYLOADS)
def test_any_json_object_of_any_shape_is_acknowledged_or_refused_never_a_500(client, payload):
    body = json.dumps(payload).encode()
    response = post(client, body, f"fuzz-{hash(body)}")
    assert response.status_code in (202, 400), response.content[:200]
