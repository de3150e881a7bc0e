import datetime

import pytest
from django.utils import timezone

from reviews.commands import parse_orr_commands, review_decide_from_comment
from reviews.models import Decision, GitLabAccount, Review
from tests.reviews.conftest import review_of


def test_commands_are_read_line_by_line_with_their_comment():
    commands = parse_orr_commands(
        "Looks fine to me.\n/orr approve data\n/orr changes legal Name the data processing agreement.\n"
        "/ORR na 4 Vendor-hosted: no infrastructure of ours"
    )
    assert [(c.kind, c.area, c.comment) for c in commands] == [
        ("approved", "data", ""),
        ("changes_requested", "legal", "Name the data processing agreement."),
        ("not_applicable", "4", "Vendor-hosted: no infrastructure of ours"),
    ]


def test_a_command_quoted_or_in_a_code_block_is_not_given():
    body = "> /orr approve data\n```\n/orr approve model\n```\nMention `/orr` in prose is fine."
    assert parse_orr_commands(body) == []


def test_a_command_in_an_html_comment_or_a_tilde_fence_is_not_given():
    body = "<!-- draft:\n/orr approve cost\n-->\n~~~\n/orr approve model\n~~~\n/orr na legal Hosted by the vendor."
    assert [(c.kind, c.area) for c in parse_orr_commands(body)] == [("not_applicable", "legal")]


def test_an_unreadable_command_says_how_to_write_it():
    first, second = parse_orr_commands("/orr approve\n/orr bless data")
    assert "names no decision or area" in first.error and "Usage" in first.error
    assert "“bless” is not an ORR decision" in second.error


def test_area_aliases_resolve_to_the_area_keys():
    assert [c.area for c in parse_orr_commands("/orr approve skills\n/orr approve ethics")] == [
        "work_estimate",
        "legal",
    ]


def map_account(user, username, gitlab_id):
    GitLabAccount.objects.create(user=user, gitlab_username=username, gitlab_user_id=gitlab_id)


@pytest.mark.django_db
def test_a_mapped_reviewer_approves_from_a_gitlab_comment(submitted_proposal, data_reviewer):
    map_account(data_reviewer, "rosa", 41)
    replies = review_decide_from_comment(
        proposal=submitted_proposal,
        gitlab_user_id=41,
        gitlab_username="rosa",
        note_body="/orr approve data",
        note_id=900,
    )
    assert replies == ["@rosa recorded “Data Limitation”: approved."]
    decision = review_of(submitted_proposal, "data").current_decision
    assert decision.decided_by == data_reviewer
    assert decision.source == Decision.Source.GITLAB and decision.gitlab_note_id == 900


@pytest.mark.django_db
def test_a_redelivered_comment_decides_once(submitted_proposal, data_reviewer):
    map_account(data_reviewer, "rosa", 41)
    for _ in range(2):
        review_decide_from_comment(
            proposal=submitted_proposal,
            gitlab_user_id=41,
            gitlab_username="rosa",
            note_body="/orr approve data",
            note_id=900,
        )
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_a_command_from_an_unknown_gitlab_account_is_refused_with_a_reply(submitted_proposal):
    replies = review_decide_from_comment(
        proposal=submitted_proposal,
        gitlab_user_id=7,
        gitlab_username="stranger",
        note_body="/orr approve data",
        note_id=1,
    )
    assert replies == [
        "@stranger: Stagegate does not know your GitLab account, so `/orr` commands from it are refused."
    ]
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_comment_commands_follow_the_same_rules_as_the_browser(submitted_proposal, author, data_reviewer):
    map_account(data_reviewer, "rosa", 41)
    map_account(author, "ada", 40)
    replies = review_decide_from_comment(
        proposal=submitted_proposal,
        gitlab_user_id=41,
        gitlab_username="rosa",
        note_body="/orr approve legal\n/orr changes data\n/orr approve budget",
        note_id=2,
    )
    assert replies[0] == (
        "@rosa: refused for “Legal and Ethical Framework”: Only the reviewers of “Legal and Ethical Framework” "
        "decide it. Nothing was recorded."
    )
    assert "a comment is required" in replies[1]
    assert "“budget” is not an ORR area" in replies[2]
    own = review_decide_from_comment(
        proposal=submitted_proposal, gitlab_user_id=40, gitlab_username="ada", note_body="/orr approve data", note_id=3
    )
    assert "Nobody decides a review of their own proposal." in own[0]
    assert not Decision.objects.exists()
    assert set(Review.objects.values_list("status", flat=True)) == {Review.Status.IN_REVIEW}


@pytest.mark.django_db
def test_a_comment_without_a_command_gets_no_reply(submitted_proposal):
    assert (
        review_decide_from_comment(
            proposal=submitted_proposal, gitlab_user_id=1, gitlab_username="x", note_body="Nice!", note_id=4
        )
        == []
    )


@pytest.mark.django_db
def test_a_reviewer_who_signed_in_with_gitlab_is_known_by_their_gitlab_id(submitted_proposal, data_reviewer):
    from allauth.socialaccount.models import SocialAccount

    SocialAccount.objects.create(user=data_reviewer, provider="gitlab", uid="77")
    replies = review_decide_from_comment(
        proposal=submitted_proposal, gitlab_user_id=77, gitlab_username="rosa", note_body="/orr approve data", note_id=5
    )
    assert replies == ["@rosa recorded “Data Limitation”: approved."]


@pytest.mark.django_db
def test_a_username_does_not_match_an_account_mapped_to_another_gitlab_id(submitted_proposal, data_reviewer):
    map_account(data_reviewer, "rosa", 41)
    replies = review_decide_from_comment(
        proposal=submitted_proposal,
        gitlab_user_id=999,
        gitlab_username="rosa",
        note_body="/orr approve data",
        note_id=6,
    )
    assert "does not know your GitLab account" in replies[0]
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_waiver_from_gitlab_can_carry_its_expiry_date(submitted_proposal, legal_reviewer):
    map_account(legal_reviewer, "lise", 42)
    expires = timezone.localdate() + datetime.timedelta(days=120)
    replies = review_decide_from_comment(
        proposal=submitted_proposal,
        gitlab_user_id=42,
        gitlab_username="lise",
        note_body=f"/orr na legal until {expires:%Y-%m-%d} Covered by the pilot agreement until then.",
        note_id=950,
    )
    assert replies == [f"@lise recorded “Legal and Ethical Framework”: not applicable until {expires:%Y-%m-%d}."]
    decision = review_of(submitted_proposal, "legal").current_decision
    assert decision.waiver_expires_on == expires
    assert decision.comment == "Covered by the pilot agreement until then."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("/orr na legal until 2027-02-30 Pilot.", "“2027-02-30” is not a date (YYYY-MM-DD)."),
        ("/orr na legal until 2001-01-01 Pilot.", "A waiver's expiry date must be in the future."),
        ("/orr approve legal until 2099-01-01", "Only a not-applicable decision carries an expiry date."),
    ],
)
def test_a_bad_expiry_is_refused_with_a_reply_and_nothing_recorded(submitted_proposal, legal_reviewer, body, reply):
    map_account(legal_reviewer, "lise", 42)
    replies = review_decide_from_comment(
        proposal=submitted_proposal, gitlab_user_id=42, gitlab_username="lise", note_body=body, note_id=951
    )
    assert len(replies) == 1 and reply in replies[0]
    assert review_of(submitted_proposal, "legal").current_decision is None
