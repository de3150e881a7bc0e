from __future__ import annotations

from django.db import models


class PortfolioSummary(models.Model):
    """The dashboard's portfolio-wide figures over one scope of proposals, as the worker last computed them.

    Two scopes, so confidentiality stays decided per reader: ``open`` (proposals everyone signed in may
    read) and ``confidential`` (the rest, added only for those who read every proposal; a confidential
    proposal's author gets their own added live). ``figures`` holds counts, duration histograms and the
    candidates of each list, all of which add up across scopes (see dashboard.summary).
    """

    class Scope(models.TextChoices):
        OPEN = "open", "Open proposals"
        CONFIDENTIAL = "confidential", "Confidential proposals"

    scope = models.CharField(max_length=20, choices=Scope.choices, unique=True)
    computed_at = models.DateTimeField()
    figures = models.JSONField(default=dict)
    # Which proposals were confidential when the figures were computed (how many, and the sum of their
    # ids): a reader compares it with now, so a proposal made confidential since is never counted as open.
    confidential_count = models.PositiveIntegerField(default=0)
    confidential_id_sum = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "portfolio summaries"

    def __str__(self) -> str:
        return f"{self.get_scope_display()} as of {self.computed_at:%Y-%m-%d %H:%M}"
