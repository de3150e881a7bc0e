import pytest

from tests.factories import ProposalFactory, UserFactory


@pytest.fixture
def author(db):
    return UserFactory(username="ada", groups=["author"])


@pytest.fixture
def other_author(db):
    return UserFactory(username="grace", groups=["author"])


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rosalind", groups=["reviewer"])


@pytest.fixture
def working_group_member(db):
    return UserFactory(username="katherine", groups=["working group"])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="barbara", groups=["admin"])


@pytest.fixture
def proposal(author):
    return ProposalFactory(owner=author, title="Explain this vulnerability")


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client
