"""Every form and filter parameter of the web pages, fed control characters and hostile Unicode: never a 500.

The forms are read from the pages themselves (their `action`, method and field names), so a new field or a
new form is fuzzed without a change here. Each request runs in a savepoint that is rolled back, so every
example meets the same proposal, review and lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proposals.models import TITLE_MAX_LENGTH, Proposal
from reviews.models import Review
from tests.factories import ProposalFactory, UserFactory

PAGES = [
    "/proposals/",
    "/proposals/new/",
    "/proposals/import/",
    "/proposals/{pk}/",
    "/proposals/{pk}/edit/",
    "/reviews/",
    "/reviews/{review}/",
    "/reviews/answers/{pk}/",
    "/dashboard/",
    "/accounts/api-token/",
]
# Query parameters a page reads without a form naming them.
EXTRA_QUERY = ["page", "sort", "o", "q"]

HOSTILE = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co", "Mn"]), min_size=1, max_size=20),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\r\nX-Injected: 1",
            "\u202egnp.exe",
            "\ufeff",
            "\u2028\u2029",
            "𝕏" * 300,
            "x" * 5000,
            "-1",
            "0",
            "99999999999999999999999",
            "1e309",
            "NaN",
            "",
            " ",
            "%00",
            "../../etc/passwd",
            "2027-02-30",
            "[]",
            "{}",
        ]
    ),
)


@dataclass(frozen=True)
class Form:
    page: str
    method: str
    action: str
    fields: dict  # name -> the value the page filled in


class FormReader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            action = urljoin(self.page, attributes.get("action") or self.page)
            method = (attributes.get("method") or "get").lower()
            self._current = {"method": method, "action": action, "fields": {}}
        elif self._current is not None and tag in ("input", "select", "textarea", "button"):
            name = attributes.get("name")
            if name and name != "csrfmiddlewaretoken":
                self._current["fields"].setdefault(name, attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form" and self._current is not None:
            self.forms.append(Form(self.page, **self._current))
            self._current = None


def forms_on(client: Client, page: str) -> list[Form]:
    response = client.get(page)
    assert response.status_code == 200, page
    reader = FormReader(page)
    reader.feed(response.content.decode())
    # Signing out would end the session the remaining examples need; it takes no input anyway.
    reader.forms = [form for form in reader.forms if form.action != "/accounts/logout/"]
    # The page's own query parameters are fuzzed as well, as a GET "form" of the page itself.
    return [*reader.forms, Form(page, "get", page, dict.fromkeys(EXTRA_QUERY, ""))]


@pytest.fixture
def world(db):
    author = UserFactory(username="ada", groups=["author"])
    admin = UserFactory(username="barbara", groups=["admin", "reviewer"])
    # The longest title allowed, in characters that take four bytes: every notification about it must still fit.
    proposal = ProposalFactory(owner=author, title="Fuzzed " + "🦀" * (TITLE_MAX_LENGTH - len("Fuzzed ")))
    Proposal.objects.filter(pk=proposal.pk).update(state=Proposal.State.IN_REVIEW)
    review = proposal.reviews.get(area__key="data")
    Review.objects.filter(pk=review.pk).update(status=Review.Status.IN_REVIEW, answer="Opted-in projects only.")
    return {"author": author, "admin": admin, "pk": proposal.pk, "review": review.pk}


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["author", "admin"])
@pytest.mark.parametrize("page", PAGES)
def test_no_form_or_filter_value_makes_a_page_fail(world, page, role):
    client = client_for(world[role])
    path = page.format(pk=world["pk"], review=world["review"])
    response = client.get(path)
    if response.status_code != 200:
        pytest.skip(f"{role} does not see {path}")
    forms = forms_on(client, path)

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def fuzz(data):
        form = data.draw(st.sampled_from(forms))
        values = {
            name: data.draw(st.one_of(st.just(value), HOSTILE) if value else HOSTILE, label=name)
            for name, value in form.fields.items()
        }
        with transaction.atomic():
            send = client.post if form.method == "post" else client.get
            answer = send(form.action, values)
            if getattr(answer, "streaming", False):
                b"".join(answer.streaming_content)
            transaction.set_rollback(True)
        assert answer.status_code < 500, (form.action, values)

    fuzz()
    # The CSV takes the dashboard's filters as well: fuzz it with the dashboard's fields.
    if path == "/dashboard/":
        dashboard = next(form for form in forms if form.method == "get" and form.fields.keys() - set(EXTRA_QUERY))
        csv_form = Form(path, "get", "/dashboard/proposals.csv", dashboard.fields)
        forms[:] = [csv_form]
        fuzz()
