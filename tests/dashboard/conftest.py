from datetime import timedelta

import pytest
from django.utils import timezone

from proposals.management.commands.seed_bench import timestamps_as_given
from proposals.models import Activity, Proposal
from tests.factories import ProposalFactory, UserFactory


@pytest.fixture
def wg_client(client, working_group_member):
    client.force_login(working_group_member)
    return client


@pytest.fixture
def make_proposal():
    """A proposal made through the app's service (checklists, five reviews, timeline), then given `fields`."""

    def make(**fields) -> Proposal:
        made_by = {k: fields.pop(k) for k in ("title", "owner", "confidential") if k in fields}
        proposal = ProposalFactory(**made_by)
        if fields:
            Proposal.objects.filter(pk=proposal.pk).update(**fields)
            proposal.refresh_from_db()
        return proposal

    return make


@pytest.fixture
def quiet_proposal(db):
    """A proposal whose last sign of life is `days` ago: written as it would have been then."""

    def make(*, days: int, title: str, owner=None, **fields) -> Proposal:
        then = timezone.now() - timedelta(days=days)
        owner = owner or UserFactory(groups=["author"])
        with timestamps_as_given(Proposal, Activity):
            proposal = Proposal.objects.bulk_create(
                [Proposal(title=title, owner=owner, created_at=then, updated_at=then, **fields)]
            )[0]
            Activity.objects.bulk_create(
                [
                    Activity(
                        proposal=proposal, actor=owner, kind=Activity.Kind.CREATED, message="created", created_at=then
                    )
                ]
            )
        return proposal

    return make
