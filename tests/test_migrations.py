"""A database made by the migrations of an earlier release migrates forward and keeps its rows.

The first state is the one Stagegate had before the GitLab sync and the dashboard became apps of
their own (`proposals/gitlab/` → `gitlab_sync/`, app label unchanged, so its tables kept their
names). Rows are written through that state's historical models, then the database is migrated to
today's leaves and read back through today's models.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The latest migration of each app at the release before the restructuring.
RELEASED = [
    ("proposals", "0003_dashboard_indexes"),
    ("reviews", "0003_orr_workflow"),
    ("gitlab_sync", "0002_sync_state_write_race"),
]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_from_the_last_release_migrates_forward_with_its_rows():
    executor = MigrationExecutor(connection)
    executor.migrate(RELEASED)
    old = executor.loader.project_state(RELEASED).apps
    user = old.get_model("auth", "User").objects.create(username="kept", email="kept@example.com")
    proposal = old.get_model("proposals", "Proposal").objects.create(
        title="Kept through the move", owner_id=user.pk, user_problem="Reviews take too long."
    )
    area = old.get_model("reviews", "OrrArea").objects.order_by("number").first()
    old.get_model("reviews", "Review").objects.create(proposal_id=proposal.pk, area_id=area.pk, answer="Two engineers.")
    old.get_model("gitlab_sync", "SyncState").objects.create(proposal_id=proposal.pk, issue_iid=41, needs_push=True)

    call_command("migrate", verbosity=0)

    from gitlab_sync.models import SyncState
    from proposals.models import Proposal
    from reviews.models import Review

    migrated = Proposal.objects.get(pk=proposal.pk)
    assert migrated.user_problem == "Reviews take too long." and migrated.owner.username == "kept"
    assert Review.objects.get(proposal=migrated, area__key=area.key).answer == "Two engineers."
    assert SyncState.objects.get(proposal=migrated).issue_iid == 41
    assert SyncState.objects.get(proposal=migrated).needs_push


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_agreed_base_of_a_synced_proposal_is_brought_to_the_editors_normal_form():
    before = [("gitlab_sync", "0005_design_updated_at")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="synced", email="synced@example.com")
    proposal = old.get_model("proposals", "Proposal").objects.create(title="Synced", owner_id=user.pk)
    old.get_model("gitlab_sync", "SyncState").objects.create(
        proposal_id=proposal.pk,
        issue_iid=7,
        base_fields={
            "title": "Synced",
            "field:user_problem": "Reviewers lose snake\\_case names:\n- one\n- two",
            "check:experiment:proposal": True,
            "kept_blocks": [["", "Epic: \\&12"]],
        },
    )

    call_command("migrate", verbosity=0)

    from gitlab_sync.models import SyncState

    base = SyncState.objects.get(proposal_id=proposal.pk).base_fields
    assert base["field:user_problem"] == "Reviewers lose snake_case names:\n\n- one\n- two"
    assert base["check:experiment:proposal"] is True and base["title"] == "Synced"
    assert base["kept_blocks"] == [["", "Epic: \\&12"]]  # ``\&`` is no escape the editor writes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_agreed_base_is_brought_to_the_normal_form_that_reads_the_editors_kept_sections_and_escapes():
    # Bases as the previous normal form stored them (0006 applied); each reads differently in today's.
    before = [("gitlab_sync", "0006_base_fields_in_the_editors_normal_form")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="synced", email="synced@example.com")
    proposal = old.get_model("proposals", "Proposal").objects.create(title="Synced", owner_id=user.pk)
    old.get_model("gitlab_sync", "SyncState").objects.create(
        proposal_id=proposal.pk,
        issue_iid=8,
        base_fields={
            "field:user_problem": "Uses `snake_case` and a\\_b here",
            "field:proposal": "\\- \\[x\\] Your proposal",
            "field:success": "Text above\n| a | b |\n| --- | --- |\n| 1 | 2 |",
            "kept_blocks": [["", "## Rollout\nWe start small.\n- one\n- two"]],
        },
    )

    call_command("migrate", verbosity=0)

    from gitlab_sync.models import SyncState

    base = SyncState.objects.get(proposal_id=proposal.pk).base_fields
    assert base["field:user_problem"] == "Uses `snake_case` and a_b here"
    assert base["field:proposal"] == "\\- [x] Your proposal"
    assert base["field:success"] == "Text above\n\n| a | b |\n| --- | --- |\n| 1 | 2 |"
    assert base["kept_blocks"] == [["", "## Rollout\n\nWe start small.\n\n- one\n- two"]]
