"""The proposal filters, shared by the list page, the API and (extended) the dashboard."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.validators import RegexValidator

from proposals.models import Proposal, ProposalQuerySet
from proposals.search import filter_matching

UNSET = "unset"  # the confidence filter's value for proposals without one
CONFIDENCE_CHOICES = [*Proposal.Confidence.choices, (UNSET, "Not set")]

# A control character in a filter is never a real search; the database may refuse it (NUL on PostgreSQL).
no_control_characters = RegexValidator(
    r"[\x00-\x1f\x7f]", inverse_match=True, message="Control characters are not allowed."
)


class ProposalFilter(django_filters.FilterSet):
    """Filters of the proposal list. An invalid value drops that filter (pages) or is answered 400 (API)."""

    q = django_filters.CharFilter(label="Search", method="search", max_length=200, validators=[no_control_characters])
    stage = django_filters.ChoiceFilter(label="Stage", choices=Proposal.STAGE_CHOICES, empty_label="Any stage")
    state = django_filters.ChoiceFilter(label="State", choices=Proposal.State.choices, empty_label="Any state")
    confidence = django_filters.ChoiceFilter(
        label="Confidence", choices=CONFIDENCE_CHOICES, method="with_confidence", empty_label="Any confidence"
    )
    owner = django_filters.CharFilter(
        label="Owner", field_name="owner__username", max_length=150, validators=[no_control_characters]
    )
    # Confidence without evidence (`proposals.models.unbacked_confidence_q`): the claim to question first.
    unbacked = django_filters.BooleanFilter(
        label="High confidence, no research", method="with_unbacked_confidence", widget=forms.CheckboxInput
    )

    def search(self, proposals: ProposalQuerySet, name: str, value: str) -> ProposalQuerySet:
        return filter_matching(proposals, value)

    def with_confidence(self, proposals: ProposalQuerySet, name: str, value: str) -> ProposalQuerySet:
        return proposals.filter(confidence="" if value == UNSET else value)

    def with_unbacked_confidence(self, proposals: ProposalQuerySet, name: str, value: bool) -> ProposalQuerySet:
        return proposals.unbacked_confidence() if value else proposals
