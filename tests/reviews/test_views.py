import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from proposals.models import Proposal
from reviews import services
from reviews.models import Decision, Review
from tests.factories import ProposalFactory, UserFactory
from tests.reviews.conftest import ANSWERS, answer_all, review_of

HTMX = {"HTTP_HX_REQUEST": "true"}


def results(response) -> str:
    """The queue's table, without the filter form (whose area choices name every area)."""
    html = response.content.decode()
    return html[html.index('id="queue-results"') :]


def login(client, user):
    client.force_login(user)
    return client


def submitted(owner, title="Summarise threads"):
    proposal = ProposalFactory(owner=owner, title=title)
    answer_all(proposal)
    services.review_submit_for_review(proposal=proposal, by=owner)
    return proposal


# --- My reviews ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_reviews_lists_what_waits_for_me_and_nothing_else(client, author, data_reviewer, legal_reviewer):
    mine = submitted(author, "Summarise threads")
    own = submitted(data_reviewer, "My own idea")  # the reviewer's own proposal never shows
    draft = ProposalFactory(owner=author, title="Still a draft")
    page = results(login(client, data_reviewer).get(reverse("reviews:queue")))
    assert "Summarise threads" in page
    assert "My own idea" not in page and "Still a draft" not in page
    assert f'href="{reverse("reviews:detail", args=[review_of(mine, "data").pk])}"' in page
    assert "Data Limitation" in page and "Legal and Ethical Framework" not in page
    assert own and draft


@pytest.mark.django_db
def test_my_reviews_filters_by_area_status_and_due_date(client, author, make_reviewer):
    everywhere = make_reviewer("data", "generalist")
    for key in ("legal", "cost"):
        everywhere.groups.add(Group.objects.get(name=f"orr {key}"))
    proposal = submitted(author)
    services.review_decide(review=review_of(proposal, "cost"), kind="approved", by=everywhere)
    login(client, everywhere)
    queue = reverse("reviews:queue")

    def areas_listed(**params):
        page = results(client.get(queue, params))
        return {
            title
            for title in ("Data Limitation", "Legal and Ethical Framework", "Cost, Scalability, Reliability")
            if title in page
        }

    assert areas_listed() == {"Data Limitation", "Legal and Ethical Framework"}
    assert areas_listed(area=review_of(proposal, "legal").area_id) == {"Legal and Ethical Framework"}
    assert areas_listed(show="decided") == {"Cost, Scalability, Reliability"}
    assert areas_listed(due="overdue") == set()
    Review.objects.filter(pk=review_of(proposal, "data").pk).update(due_on="2000-01-01")
    assert areas_listed(due="overdue") == {"Data Limitation"}
    assert "overdue 2000-01-01" in client.get(queue).content.decode()


@pytest.mark.django_db
def test_my_reviews_says_what_changed_since_i_last_looked(client, author, data_reviewer):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    login(client, data_reviewer)
    assert "New to you" in client.get(reverse("reviews:queue")).content.decode()
    client.get(reverse("reviews:detail", args=[review.pk]))
    page = client.get(reverse("reviews:queue")).content.decode()
    assert "New to you" not in page and "Answer changed" not in page and "New comments" not in page
    assert client.get(reverse("reviews:queue"), {"changed": "on"}).content.decode().count("Data Limitation") == 1
    services.review_answer_save(review=review, answer="Sharper answer.", base_sha256=review.answer_sha256, by=author)
    services.review_comment_add(review=review, body="I sharpened it.", by=author)
    page = client.get(reverse("reviews:queue"), {"changed": "on"}).content.decode()
    assert "Answer changed" in page and "New comments" in page and "Summarise threads" in page


@pytest.mark.django_db
def test_my_reviews_query_count_is_flat_from_5_to_200_reviews(
    client, author, make_reviewer, django_assert_max_num_queries, django_assert_num_queries
):
    reviewer = make_reviewer("data", "everywhere")
    for key in ("work_estimate", "model", "cost", "legal"):
        reviewer.groups.add(Group.objects.get(name=f"orr {key}"))
    login(client, reviewer)
    url = reverse("reviews:queue")

    def grow(count):
        for n in range(count):
            proposal = submitted(author, f"Proposal {n}")
            review = review_of(proposal, "data")
            services.review_mark_seen(review=review, user=reviewer)
            services.review_comment_add(review=review, body="Question", by=author)

    def rows():
        response = client.get(url, {"show": "all"})
        assert response.status_code == 200
        return len(re.findall(r'href="/reviews/\d+/"', response.content.decode()))

    grow(1)
    with django_assert_max_num_queries(20) as small:
        rows_small = rows()
    grow(39)
    with django_assert_num_queries(len(small)):
        rows_large = rows()
    assert (rows_small, rows_large) == (5, 50)  # a page of 50
    last = client.get(url, {"show": "all", "page": 4}).content.decode()
    assert "Page 4 of 4 · 200 reviews" in last


# --- A review ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_review_page_shows_the_answer_and_the_decision_form_to_a_reviewer_only(
    client, author, data_reviewer, legal_reviewer
):
    proposal = submitted(author)
    url = reverse("reviews:detail", args=[review_of(proposal, "data").pk])
    page = login(client, data_reviewer).get(url).content.decode()
    assert ANSWERS["data"] in page and "Record decision" in page
    page = login(client, legal_reviewer).get(url).content.decode()
    assert "Record decision" not in page and "Only the reviewers of “Data Limitation” decide it." in page
    page = login(client, author).get(url).content.decode()
    assert "Record decision" not in page and "Nobody decides a review of their own proposal." in page


@pytest.mark.django_db
def test_a_confidential_proposals_review_is_hidden_from_people_who_cannot_see_the_proposal(
    client, author, other_author
):
    proposal = submitted(author)
    Proposal.objects.filter(pk=proposal.pk).update(confidential=True)
    response = login(client, other_author).get(reverse("reviews:detail", args=[review_of(proposal, "data").pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_approving_from_the_review_page(client, author, data_reviewer):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    response = login(client, data_reviewer).post(
        reverse("reviews:decide", args=[review.pk]), {"kind": "approved", "answer_sha256": review.answer_sha256}
    )
    assert response.status_code == 302
    assert review_of(proposal, "data").status == Review.Status.APPROVED
    with_htmx = client.post(
        reverse("reviews:decide", args=[review.pk]),
        {"kind": "approved", "answer_sha256": review.answer_sha256},
        **HTMX,
    )
    assert with_htmx["HX-Redirect"] == reverse("reviews:detail", args=[review.pk])
    page = client.get(reverse("reviews:detail", args=[review.pk])).content.decode()
    assert "Approved</strong> by rev_data" in page


@pytest.mark.django_db
def test_requesting_changes_without_a_comment_keeps_the_form_and_says_why(client, author, data_reviewer):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    response = login(client, data_reviewer).post(
        reverse("reviews:decide", args=[review.pk]),
        {"kind": "changes_requested", "comment": "", "answer_sha256": review.answer_sha256},
        **HTMX,
    )
    assert response.status_code == 200
    assert "a comment is required" in response.content.decode()
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_self_review_and_wrong_area_are_refused_from_the_page_too(client, author, legal_reviewer):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    payload = {"kind": "approved", "answer_sha256": review.answer_sha256}
    assert login(client, author).post(reverse("reviews:decide", args=[review.pk]), payload).status_code == 403
    assert login(client, legal_reviewer).post(reverse("reviews:decide", args=[review.pk]), payload).status_code == 403
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_stale_sign_off_shows_what_changed_since(client, author, data_reviewer):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    services.review_decide(review=review, kind="approved", by=data_reviewer)
    review = review_of(proposal, "data")
    services.review_answer_save(
        review=review, answer=ANSWERS["data"] + "\nPlus support tickets.", base_sha256=review.answer_sha256, by=author
    )
    page = login(client, data_reviewer).get(reverse("reviews:detail", args=[review.pk])).content.decode()
    assert "Changed since the decision “Approved” by rev_data" in page
    assert "<ins>+ Plus support tickets.</ins>" in page
    assert "Stale" in page


@pytest.mark.django_db
def test_commenting_with_htmx_returns_the_thread(client, author, data_reviewer):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    response = login(client, data_reviewer).post(
        reverse("reviews:comment", args=[review.pk]), {"body": "Which projects?"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<section class="section-card" id="thread"')
    assert "Which projects?" in html


# --- Answers -------------------------------------------------------------------------------------


def answer_post(client, proposal, key, text, base=None, **headers):
    if base is None:
        base = review_of(proposal, key).answer_sha256
    return client.post(reverse("reviews:answer", args=[proposal.pk, key]), {"answer": text, "base": base}, **headers)


@pytest.mark.django_db
def test_autosaving_an_answer_returns_the_small_status_fragment(client, author, areas):
    proposal = ProposalFactory(owner=author)
    response = answer_post(login(client, author), proposal, "cost", "Half a cent per call.", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="section-status" id="orr-cost-status"')
    assert "Saved" in html and "<textarea" not in html
    assert review_of(proposal, "cost").answer == "Half a cent per call."
    # The next autosave builds on what was just saved.
    assert re.search(r'name="base" value="([0-9a-f]{64})"', html).group(1) == review_of(proposal, "cost").answer_sha256


@pytest.mark.django_db
def test_only_the_author_saves_answers(client, author, data_reviewer, areas):
    proposal = ProposalFactory(owner=author)
    assert answer_post(login(client, data_reviewer), proposal, "data", "Not mine.", **HTMX).status_code == 403
    assert review_of(proposal, "data").answer == ""


@pytest.mark.django_db
def test_a_conflicting_answer_is_refused_and_both_texts_are_shown(client, author, admin_user, areas):
    proposal = ProposalFactory(owner=author)
    loaded = review_of(proposal, "legal").answer_sha256
    answer_post(login(client, admin_user), proposal, "legal", "Admin's view.", **HTMX)
    response = answer_post(login(client, author), proposal, "legal", "Author's view.", base=loaded, **HTMX)
    html = response.content.decode()
    assert "Someone else changed this answer" in html
    assert "Admin&#x27;s view." in html and "Author&#x27;s view." in html
    assert review_of(proposal, "legal").answer == "Admin's view."
    no_js = answer_post(client, proposal, "legal", "Author's view.", base=loaded)
    assert no_js.status_code == 409 and "Author&#x27;s view.</textarea>" in no_js.content.decode()


@pytest.mark.django_db
def test_editing_a_signed_answer_says_the_sign_off_went_stale(client, author, data_reviewer):
    proposal = submitted(author)
    services.review_decide(review=review_of(proposal, "data"), kind="approved", by=data_reviewer)
    mail.outbox.clear()
    html = answer_post(login(client, author), proposal, "data", "Rewritten.", **HTMX).content.decode()
    assert "the sign-off is now stale; the reviewer was told" in html


@pytest.mark.django_db
def test_saving_an_answer_without_javascript_goes_back_to_the_edit_page(client, author, areas):
    proposal = ProposalFactory(owner=author)
    response = answer_post(login(client, author), proposal, "model", "Open weights.")
    assert response.status_code == 302
    assert response["Location"] == reverse("proposals:edit", args=[proposal.pk]) + "#orr-model"


# --- Gates ---------------------------------------------------------------------------------------


def render_tag(tag, proposal, user):
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load orr %}{% " + tag + " proposal %}").render(
        Context({"proposal": proposal, "request": request})
    )


@pytest.mark.django_db
def test_the_gates_partial_shows_disabled_buttons_with_their_reasons(author, areas):
    proposal = ProposalFactory(owner=author)
    html = render_tag("orr_gates", proposal, author)
    assert re.search(
        r'<button type="submit" name="transition" value="submit" disabled[^>]*>Submit for review</button>', html
    )
    assert "Answer the ORR area “Data Limitation”" in html
    assert "Fill in “User problem” (Experiment)" in html
    assert "Not started" in html


@pytest.mark.django_db
def test_the_gates_partial_shows_no_buttons_to_someone_who_cannot_move_the_proposal(author, data_reviewer, areas):
    html = render_tag("orr_gates", ProposalFactory(owner=author), data_reviewer)
    assert 'name="transition"' not in html and "Data Limitation" in html
    assert ">Watch<" in html  # reading is enough to watch


@pytest.mark.django_db
def test_the_answers_partial_is_an_autosaving_form_for_the_author_and_read_only_for_others(
    author, data_reviewer, areas
):
    proposal = ProposalFactory(owner=author)
    answer_all(proposal)
    html = render_tag("orr_answers", proposal, author)
    assert html.count("<textarea") == 5 and "hx-post" in html and ANSWERS["legal"] in html
    html = render_tag("orr_answers", proposal, data_reviewer)
    assert html.count("readonly") == 5 and "hx-post" not in html


@pytest.mark.django_db
def test_submitting_from_the_proposal_page(client, author, data_reviewer, areas, django_capture_on_commit_callbacks):
    proposal = ProposalFactory(owner=author)
    login(client, author)
    url = reverse("reviews:transition", args=[proposal.pk, "submit"])
    response = client.post(url, follow=True)
    assert "Not yet: Answer the ORR area" in response.content.decode()
    answer_all(proposal)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.IN_REVIEW
    assert any(data_reviewer.email in m.to for m in mail.outbox)
    assert login(client, data_reviewer).post(url).status_code == 403


@pytest.mark.django_db
def test_an_unknown_step_is_not_found(client, author, areas):
    proposal = ProposalFactory(owner=author)
    assert login(client, author).post(reverse("reviews:transition", args=[proposal.pk, "launch"])).status_code == 404
    assert UserFactory


@pytest.mark.django_db
def test_the_review_page_query_count_holds_as_decisions_and_comments_grow(
    client, author, data_reviewer, django_assert_max_num_queries, django_assert_num_queries
):
    proposal = submitted(author)
    review = review_of(proposal, "data")
    url = reverse("reviews:detail", args=[review.pk])
    login(client, data_reviewer)

    def grow(count):
        for n in range(count):
            services.review_decide(
                review=review_of(proposal, "data"), kind="changes_requested", comment=f"Ask {n}", by=data_reviewer
            )
            services.review_comment_add(review=review, body=f"Answer {n}", by=author)

    grow(1)
    client.get(url)  # the first look records it; later looks update it
    with django_assert_max_num_queries(20) as small:
        assert client.get(url).status_code == 200
    grow(10)
    with django_assert_num_queries(len(small)):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_answer_fragment_query_count_holds_as_proposals_grow(
    client, author, areas, django_assert_max_num_queries, django_assert_num_queries
):
    proposal = ProposalFactory(owner=author)
    login(client, author)
    url = reverse("reviews:answer", args=[proposal.pk, "cost"])
    answer_post(client, proposal, "cost", "First.", **HTMX)
    second = {"answer": "Second.", "base": review_of(proposal, "cost").answer_sha256}
    # The answer's history row and its search entries are written with it; the count stays flat.
    with django_assert_max_num_queries(34) as small:
        assert client.post(url, second, **HTMX).status_code == 200
    for _ in range(20):
        ProposalFactory(owner=author)
    third = {"answer": "Third.", "base": review_of(proposal, "cost").answer_sha256}
    with django_assert_num_queries(len(small)):
        assert client.post(url, third, **HTMX).status_code == 200


@pytest.mark.django_db
def test_the_gates_partial_reads_the_reviews_once(author, areas, django_assert_num_queries):
    proposal = Proposal.objects.prefetch_related(
        "requirements", "research_links", "persona_tags", "checklist_items"
    ).get(pk=ProposalFactory(owner=author).pk)
    author._stagegate_groups = {"author"}  # roles are read once per request, not per gate
    with django_assert_num_queries(2):  # the reviews, once for every gate and the status table; the watchers
        render_tag("orr_gates", proposal, author)


@pytest.mark.django_db
def test_the_gates_panel_refreshes_on_its_own_url(client, author, areas):
    proposal = ProposalFactory(owner=author)
    answer_all(proposal)
    html = login(client, author).get(reverse("reviews:gates", args=[proposal.pk]), **HTMX).content.decode()
    assert html.lstrip().startswith('<section class="side-card" id="orr-gates"')
    assert re.search(r'value="submit">Submit for review</button>', html)  # enabled: every area is answered


@pytest.mark.django_db
def test_without_javascript_a_conflict_keeps_every_other_answer_saveable(client, author, admin_user, areas):
    proposal = ProposalFactory(owner=author)
    answer_all(proposal)
    loaded = review_of(proposal, "legal").answer_sha256
    answer_post(login(client, admin_user), proposal, "legal", "Admin's view.")
    html = answer_post(login(client, author), proposal, "legal", "Author's view.", base=loaded).content.decode()
    bases = dict(
        re.findall(r'id="orr-([a-z_]+)-status"[^>]*>\s*<input type="hidden" name="base" value="([0-9a-f]{64})"', html)
    )
    assert bases["legal"] == review_of(proposal, "legal").answer_sha256  # "Keep my version" builds on theirs
    assert bases["data"] == review_of(proposal, "data").answer_sha256
    assert html.count("Someone else changed this answer") == 1


@pytest.mark.django_db
def test_my_reviews_never_lists_a_confidential_proposal_its_reader_may_not_see(client, author, areas):
    # In the area's group but without the reviewer role: confidential proposals stay hidden.
    outsider = UserFactory(username="group_only", groups=["author", "orr data"])
    submitted(author, "Public plan")
    secret = submitted(author, "Secret plan")
    Proposal.objects.filter(pk=secret.pk).update(confidential=True)
    page = results(login(client, outsider).get(reverse("reviews:queue")))
    assert "Public plan" in page and "Secret plan" not in page
