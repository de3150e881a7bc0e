import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from proposals import services
from proposals.models import Proposal


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("stagegate-pass")

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        if create and names:
            self.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in names))


class ProposalFactory(factory.django.DjangoModelFactory):
    """Goes through proposal_create so a proposal has its checklists and reviews, as in the app."""

    class Meta:
        model = Proposal

    title = factory.Sequence(lambda n: f"Summarise merge request threads {n}")
    owner = factory.SubFactory(UserFactory, groups=["author"])
    confidential = False

    @classmethod
    def _create(cls, model_class, *, title, owner, confidential, **fields):
        proposal = services.proposal_create(title=title, owner=owner, confidential=confidential)
        if fields:
            Proposal.objects.filter(pk=proposal.pk).update(**fields)
            proposal.refresh_from_db()
        return proposal
