"""Demo users for each role and a few proposals, so a fresh `make run` has something to show."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from proposals import services
from proposals.access import ADMINS, AUTHORS, REVIEWERS, WORKING_GROUP
from proposals.models import Persona, Proposal

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

        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, _, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} {role}")
