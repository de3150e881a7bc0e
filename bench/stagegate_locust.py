"""Locust users for bench.load and bench.chaos: authors autosave, reviewers sign off, the working group browses.

Not run on its own: bench.load seeds the database, starts the stack and runs
``locust -f bench/stagegate_locust.py --headless`` with STAGEGATE_BENCH_PLAN (who logs in
with what, which proposal is whose) and STAGEGATE_BENCH_LAST (where each author's last
saved text is written when the run stops, to check that no write was lost). Locust imports this
file by its path, not as part of the bench package: it imports nothing but the standard library
and locust. A role nobody plays in the plan (weight 0) is left out.
"""

from __future__ import annotations

import json
import os
import random
import re
from itertools import count

from locust import HttpUser, between, events, task

with open(os.environ["STAGEGATE_BENCH_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
LAST_SAVED: dict[str, str] = {}  # proposal id -> the last text the page confirmed as saved
IN_FLIGHT: dict[str, str] = {}  # proposal id -> a text sent whose answer had not come when the run stopped
_accounts = {role: iter(people) for role, people in PLAN["people"].items()}

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PROBLEM_LOCK = re.compile(
    r'id="section-problem-status".*?name="version" value="(\d+)".*?name="base" value="([^"]*)"', re.S
)
LOCK = re.compile(r'name="version" value="(\d+)".*?name="base" value="([^"]*)"', re.S)
REVIEW_LINK = re.compile(r'href="/reviews/(\d+)/"')
ANSWER_SHA = re.compile(
    r'name="answer_sha256"[^>]*value="([0-9a-f]{64})"|value="([0-9a-f]{64})"[^>]*name="answer_sha256"'
)
PROPOSAL_LINK = re.compile(r'href="/proposals/(\d+)/"')


@events.quitting.add_listener
def write_last_saved(environment, **kwargs):
    with open(os.environ["STAGEGATE_BENCH_LAST"], "w") as out:
        json.dump({"saved": LAST_SAVED, "in_flight": IN_FLIGHT}, out)


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    role = ""

    def on_start(self):
        # Signed in already: bench.load made each person's session, as after a login earlier in the day.
        self.person = next(_accounts[self.role])
        self.client.cookies.set("sessionid", self.person["session"])
        self.proposal_ids = [int(pk) for pk in PLAN["visible_proposals"]]

    @property
    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def browse_list(self):
        page = self.client.get("/proposals/", name="browse: proposal list")
        found = PROPOSAL_LINK.findall(page.text)
        if found:
            self.proposal_ids = [int(pk) for pk in found]

    def browse_detail(self):
        pk = random.choice(self.proposal_ids)
        self.client.get(f"/proposals/{pk}/", name="browse: proposal page")

    def browse_dashboard(self):
        self.client.get("/dashboard/", name="browse: dashboard")


class Author(SignedIn):
    """Writes the problem section of their own proposal; the page autosaves as they type."""

    weight = PLAN["weights"]["author"]
    role = "author"
    abstract = not weight

    def on_start(self):
        super().on_start()
        self.proposal_id = self.person["proposal"]
        self.saves = count(1)
        self.reload()

    def reload(self):
        page = self.client.get(f"/proposals/{self.proposal_id}/edit/", name="author: edit page")
        self.version, self.base = PROBLEM_LOCK.search(page.text).groups()

    @task(8)
    def autosave(self):
        n = next(self.saves)
        text = f"{self.person['username']} autosave #{n}: " + " ".join(random.choices(WORDS, k=random.randint(5, 60)))
        data = {
            "version": self.version,
            "base": self.base,
            "user_problem": text,
            "solution_hypothesis": "",
            "assumptions": "",
            "personas": "",
        }
        IN_FLIGHT[str(self.proposal_id)] = text
        with self.client.post(
            f"/proposals/{self.proposal_id}/sections/problem/",
            data=data,
            headers={"HX-Request": "true", "X-CSRFToken": self.csrf},
            name="author: autosave",
            catch_response=True,
        ) as response:
            del IN_FLIGHT[str(self.proposal_id)]
            if response.status_code != 200 or 'class="saved"' not in response.text:
                response.failure(f"not saved ({response.status_code})")
                self.reload()
                return
            self.version, self.base = LOCK.search(response.text).groups()
            LAST_SAVED[str(self.proposal_id)] = text

    @task(1)
    def edit_page(self):
        self.reload()

    @task(1)
    def list_page(self):
        self.browse_list()

    @task(1)
    def detail_page(self):
        self.browse_detail()


class Reviewer(SignedIn):
    """Opens their queue, reads a review and signs it off."""

    weight = PLAN["weights"]["reviewer"]
    role = "reviewer"
    abstract = not weight

    def on_start(self):
        super().on_start()
        self.reviews = list(self.person["reviews"])

    @task(2)
    def queue(self):
        page = self.client.get("/reviews/", name="reviewer: queue")
        waiting = [int(pk) for pk in REVIEW_LINK.findall(page.text)]
        if waiting:
            self.reviews = waiting

    @task(4)
    def decide(self):
        if not self.reviews:
            return
        pk = random.choice(self.reviews)
        page = self.client.get(f"/reviews/{pk}/", name="reviewer: review page")
        sha = ANSWER_SHA.search(page.text)
        if sha is None:
            return
        kind = random.choice(["approved", "approved", "approved", "changes_requested"])
        with self.client.post(
            f"/reviews/{pk}/decide/",
            data={
                "kind": kind,
                "comment": "Please size the cost per request." if kind == "changes_requested" else "",
                "answer_sha256": sha.group(1) or sha.group(2),
                "csrfmiddlewaretoken": CSRF.search(page.text).group(1),
            },
            name="reviewer: decide",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "Recorded:" not in response.text:
                response.failure(f"decision not recorded ({response.status_code})")

    @task(1)
    def dashboard(self):
        self.browse_dashboard()


class WorkingGroup(SignedIn):
    """Watches the portfolio."""

    weight = PLAN["weights"]["working group"]
    role = "working group"
    abstract = not weight

    @task(3)
    def dashboard(self):
        self.browse_dashboard()

    @task(2)
    def list_page(self):
        self.browse_list()

    @task(2)
    def detail_page(self):
        self.browse_detail()

    @task(1)
    def export(self):
        self.client.get("/dashboard/proposals.csv", name="browse: dashboard CSV")


WORDS = [
    *[
        "reviewers",
        "drown",
        "in",
        "long",
        "merge",
        "request",
        "threads",
        "and",
        "miss",
        "the",
        "decision",
        "buried",
        "in",
        "them",
        "while",
    ],
    *[
        "triage",
        "takes",
        "hours",
        "every",
        "week",
        "because",
        "nobody",
        "can",
        "see",
        "which",
        "issues",
        "share",
        "a",
        "root",
        "cause",
    ],
]
