"""Fixtures for the ORR: areas with reviewer groups and leads, a submitted proposal, eager Celery."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from proposals.template import ORR_AREAS_2023
from reviews.models import OrrArea, Review
from tests.factories import ProposalFactory, UserFactory

ANSWERS = {
    "work_estimate": "Two ML engineers and one fullstack engineer for a quarter.",
    "data": "Merge request threads of opted-in projects; no customer data leaves the region.",
    "model": "A hosted open-weights model, evaluated with the ModelOps framework.",
    "cost": "About 0.2 cents per summary; cached per thread version.",
    "legal": "Covered by the existing AI terms; legal reviewed the data flow.",
}


@pytest.fixture(autouse=True)
def tasks_run_inline(eager_celery):
    """Every test here runs Celery tasks inline (tests/conftest.py's eager_celery)."""


@pytest.fixture
def areas(db):
    """Each area gets its own reviewer group and a lead; returns {key: OrrArea}."""
    result = {}
    for template_area in ORR_AREAS_2023:
        # Transactional tests flush the seeded areas; put them back as the migration does.
        OrrArea.objects.get_or_create(
            key=template_area.key,
            defaults={"number": template_area.number, "title": template_area.title, "guidance": template_area.guidance},
        )
    for area in OrrArea.objects.all():
        area.reviewer_group = Group.objects.get_or_create(name=f"orr {area.key}")[0]
        area.lead = UserFactory(username=f"lead_{area.key}", groups=["reviewer"])
        area.save()
        result[area.key] = area
    return result


@pytest.fixture
def make_reviewer(areas):
    def make(key: str, username: str | None = None):
        return UserFactory(username=username or f"rev_{key}", groups=["reviewer", f"orr {key}"])

    return make


@pytest.fixture
def data_reviewer(make_reviewer):
    return make_reviewer("data")


@pytest.fixture
def legal_reviewer(make_reviewer):
    return make_reviewer("legal")


def answer_all(proposal, answers=ANSWERS):
    for review in proposal.reviews.select_related("area"):
        Review.objects.filter(pk=review.pk).update(answer=answers[review.area.key])


@pytest.fixture
def answered_proposal(author, areas):
    proposal = ProposalFactory(owner=author, title="Summarise merge request threads")
    answer_all(proposal)
    return proposal


@pytest.fixture
def submitted_proposal(answered_proposal, author, django_capture_on_commit_callbacks):
    from reviews.services import review_submit_for_review

    with django_capture_on_commit_callbacks(execute=True):
        review_submit_for_review(proposal=answered_proposal, by=author)
    answered_proposal.refresh_from_db()
    return answered_proposal


def review_of(proposal, key: str) -> Review:
    return Review.objects.select_related("area", "proposal", "current_decision").get(proposal=proposal, area__key=key)


class _SlackServer:
    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        posts = self.posts = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                posts.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/XXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack_server():
    """A Slack incoming webhook on loopback that records what it was sent."""
    server = _SlackServer()
    yield server
    server.stop()
