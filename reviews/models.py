from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from proposals.models import TEXT_MAX_LENGTH, Proposal


class OrrArea(models.Model):
    """One of the five Operational Requirements Review areas."""

    key = models.SlugField(max_length=40, unique=True)
    number = models.PositiveSmallIntegerField(unique=True)
    title = models.CharField(max_length=200)
    guidance = models.TextField(help_text="The template's text for this area, shown to authors and reviewers.")
    reviewer_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service_level_days = models.PositiveSmallIntegerField(default=5)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class Review(models.Model):
    """One proposal's review in one ORR area: the author's answer and where the review stands."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        STALE = "stale", "Stale"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    area = models.ForeignKey(OrrArea, on_delete=models.PROTECT, related_name="reviews")
    answer = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    answer_updated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area__number"]
        constraints = [models.UniqueConstraint(fields=["proposal", "area"], name="review_unique_per_area")]

    def __str__(self) -> str:
        return f"{self.proposal} — {self.area.title}"
