"""Demo users for each role and a few proposals, so a fresh `make run` has something to show.

It lives in the reviews app because the first demo proposal is already in its Operational Requirements
Review: one area signed off, one sent back with a question, three waiting, so a reviewer's queue, the
review loop and the dashboard's bottleneck have something to show on a first look.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from proposals import services
from proposals.access import ADMINS, AUTHORS, REVIEWERS, WORKING_GROUP
from proposals.models import Persona, Proposal
from reviews import services as review_services
from reviews.models import Decision, Review

DEMO_PASSWORD = "stagegate-demo"

DEMO_USERS = [
    # username, groups, what they do
    ("admin", [ADMINS], "admin: connects GitLab, names reviewers, sees everything"),
    ("parker", [AUTHORS], "author: product manager writing proposals"),
    ("priya", [AUTHORS], "author: another product manager"),
    ("rosa", [REVIEWERS], "reviewer: ORR areas"),
    ("devon", [REVIEWERS], "reviewer: ORR areas"),
    ("wendy", [WORKING_GROUP], "working group: watches the dashboard"),
]

DEMO_PROPOSALS = [
    {
        "owner": "parker",
        "title": "Summarise long merge request discussions",
        "user_problem": "Reviewers joining a merge request late spend twenty minutes reading a hundred comments.",
        "solution_hypothesis": "A summary of open threads and decisions lets them catch up in a minute.",
        "assumptions": "Threads are mostly English; reviewers trust a summary that links to its sources.",
        "personas": "Reviewers joining late, and team leads following many merge requests.",
        "personas_tags": ["Sasha", "Delaney"],
        "proposal": "Add a “Summarise” button on the merge request page that lists open threads and decisions.",
        "success": "Median time to first review comment for late joiners drops by 30%.",
        "main_job_story": "When I join a merge request late, I want the gist of the discussion, so I can review.",
        "problem_validation": "12 of 15 interviewed reviewers read threads from the top before commenting.",
        "business_objective": "Shorter review cycles for Premium customers.",
        "confidence": "medium",
        "requirements": ["See a summary of unresolved threads", "Jump from a summary line to its thread"],
        "research": [("Reviewer interviews, round 2", "https://gitlab.example.com/ux-research/-/issues/412")],
        "orr_answers": {
            "work_estimate": "One backend engineer and one ML engineer for six weeks; UX review of the summary panel.",
            "data": "Merge request threads of public projects; no customer data leaves the instance.",
            "model": "A hosted foundation model through the AI gateway; no tuning for the experiment.",
            "cost": "About 2,000 summaries a day at launch, under the group's inference budget.",
            "legal": "Summaries link to their sources and say they were generated; legal reviewed the notice.",
        },
        # area key: (reviewer, decision, comment); the other areas wait in the reviewers' queue.
        "orr_decisions": {
            "work_estimate": ("rosa", Decision.Kind.APPROVED, "Estimate matches similar features."),
            "cost": ("devon", Decision.Kind.CHANGES_REQUESTED, "What does a summary cost at the p95 thread length?"),
        },
    },
    {
        "owner": "parker",
        "title": "Explain this vulnerability in plain words",
        "user_problem": "Developers dismiss scanner findings they do not understand.",
        "solution_hypothesis": "An explanation with a fix suggestion turns a finding into a task.",
        "personas_tags": ["Sasha", "Amy"],
    },
    {
        "owner": "priya",
        "title": "Forecast pipeline failures from history",
        "confidential": True,
        "user_problem": "Platform teams learn of flaky jobs only after a release slips.",
    },
]


class Command(BaseCommand):
    help = "Create demo users (one per role) and demo proposals. Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {}
        User = get_user_model()
        for username, groups, _ in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = username == "admin"
                user.is_superuser = username == "admin"
                user.save()
            user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
            users[username] = user

        for spec in DEMO_PROPOSALS:
            if Proposal.objects.filter(title=spec["title"]).exists():
                continue
            owner = users[spec["owner"]]
            proposal = services.proposal_create(
                title=spec["title"], owner=owner, confidential=spec.get("confidential", False)
            )
            for section in proposal.definition.edit_sections:
                data = {name: spec[name] for name in section.fields if name in spec}
                if "personas" in section.fields and "personas_tags" in spec:
                    data["persona_tags"] = sorted(
                        Persona.objects.filter(name__in=spec["personas_tags"]).values_list("pk", flat=True)
                    )
                if not data:
                    continue
                fields = tuple(data)
                values = services.section_values(proposal, fields)
                proposal = services.proposal_update_section(
                    proposal=proposal,
                    fields=fields,
                    data=data,
                    version=proposal.version,
                    base=services.section_fingerprint(values),
                    by=owner,
                    section_title=section.title,
                )
            for text in spec.get("requirements", []):
                services.requirement_add(proposal=proposal, text=text, by=owner)
            for title, url in spec.get("research", []):
                services.research_link_add(proposal=proposal, url=url, title=title, by=owner)
            if "orr_answers" in spec:
                self.submit_for_review(proposal, spec, owner=owner, users=users)

        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role}")

    def submit_for_review(self, proposal: Proposal, spec: dict, *, owner, users: dict) -> None:
        """Answer every ORR area, submit, and let the reviewers decide some areas as they would in the app."""
        reviews = Review.objects.filter(proposal=proposal).select_related("area")
        reviews = {review.area.key: review for review in reviews}
        for key, answer in spec["orr_answers"].items():
            review = reviews[key]
            review_services.review_answer_save(review=review, answer=answer, base_sha256=review.answer_sha256, by=owner)
        review_services.review_submit_for_review(proposal=proposal, by=owner)
        for key, (username, kind, comment) in spec.get("orr_decisions", {}).items():
            review = Review.objects.get(pk=reviews[key].pk)
            reviewer = users[username]
            review_services.review_take(review=review, by=reviewer)
            review_services.review_decide(
                review=Review.objects.get(pk=review.pk),
                kind=kind,
                by=reviewer,
                comment=comment,
                answer_sha256_read=review.answer_sha256,
            )
