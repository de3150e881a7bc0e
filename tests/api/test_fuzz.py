"""Schemathesis drives every API operation from the OpenAPI schema: no input makes the API fail or lie.

Runs in-process through the WSGI app, as an author with a token and a proposal of their own,
a bounded number of generated requests per operation (every operation of the schema).
"""

import json
import zlib

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gitlab_sync import discussion
from gitlab_sync.models import LinkedIssue, SyncConflict, SyncState
from proposals import services
from tests.factories import ProposalFactory

# Bounded so the whole schema (every operation) fuzzes in well under a minute on a shared CI machine.
EXAMPLES_PER_OPERATION = 10


@pytest.fixture(autouse=True)
def in_process_requests():
    """Keep the test's database connection (and its transaction) open across requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_header(db, author):
    return {"Authorization": f"Token {Token.objects.get_or_create(user=author)[0].key}"}


@pytest.fixture
def known_ids(db, author):
    """Ids of things that exist, so generated requests reach the code behind the 404s."""
    proposal = ProposalFactory(owner=author, title="Explain this vulnerability")
    ProposalFactory(owner=author, title="Secret plan", confidential=True)
    requirement = services.requirement_add(proposal=proposal, text="Read the summary", by=author)
    link = services.research_link_add(proposal=proposal, url="https://example.com/r", title="R", by=author)
    SyncState.objects.get_or_create(proposal=proposal)
    conflict = SyncConflict.objects.create(
        proposal=proposal, field="field:user_problem", label="User problem", local_value="a", remote_value="b"
    )
    comment = discussion.comment_post(proposal=proposal, body="Which regions first?", by=author)
    linked_issue = LinkedIssue.objects.create(proposal=proposal, link_id=1, issue_id=10, issue_iid=3, title="Related")
    return {
        "comment_id": comment.pk,
        "link_id": linked_issue.pk,
        "proposal": proposal.pk,
        "review": proposal.reviews.values_list("pk", flat=True).first(),
        "item_id": proposal.checklist_items.values_list("pk", flat=True).first(),
        "requirement": requirement.pk,
        "research_link": link.pk,
        "conflict_id": conflict.pk,
    }


def aim_at_known_objects(case, known_ids: dict) -> None:
    """Three requests in four address existing objects (and a real section); the fourth keeps its random ids."""
    if not case.path_parameters or zlib.crc32(repr(case.body).encode() + case.path.encode()) % 4 == 0:
        return
    case.path_parameters["id"] = known_ids["review" if case.path.startswith("/api/reviews/") else "proposal"]
    if "item_id" in case.path_parameters:
        case.path_parameters["item_id"] = known_ids["item_id"]
    if "row_id" in case.path_parameters:
        kind = "research_link" if "/research-links/" in case.path else "requirement"
        case.path_parameters["row_id"] = known_ids[kind]
    if "conflict_id" in case.path_parameters:
        case.path_parameters["conflict_id"] = known_ids["conflict_id"]
    for name in ("comment_id", "link_id"):
        if name in case.path_parameters:
            case.path_parameters[name] = known_ids[name]
    if "section_key" in case.path_parameters:
        case.path_parameters["section_key"] = "problem"


def generated_schema():
    """The OpenAPI document as /api/schema/ serves it to a signed-in user, generated without the database."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))
    loaded.app = WSGIHandler()
    return loaded


# The schema is generated without the database, so it loads when the tests are collected.
schema = generated_schema()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_never_fails_and_answers_as_documented(case, token_header, known_ids):
    aim_at_known_objects(case, known_ids)
    case.call_and_validate(
        headers=token_header,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
