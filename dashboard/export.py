"""The dashboard's table as a CSV download, streamed: memory stays flat however many proposals there are."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import CharField, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from dashboard.filters import sorted_proposals
from proposals.csv_export import RowSink, safe_cell
from proposals.models import Proposal
from proposals.template import STAGE_LABELS
from reviews.models import OrrArea, Review

CSV_CHUNK = 500


def csv_chunks(proposals: QuerySet[Proposal], *, areas: list[OrrArea], sort: str) -> Iterator[str]:
    """The filtered table as CSV text in chunks of rows, read from a server-side cursor: memory stays flat."""
    status_labels = dict(Review.Status.choices)
    area_columns = {
        f"orr_{area.pk}": Subquery(
            Review.objects.filter(proposal=OuterRef("pk"), area_id=area.pk).order_by().values("status")[:1],
            output_field=CharField(),
        )
        for area in areas
    }
    rows = (
        sorted_proposals(proposals, sort)
        .annotate(owner_name=F("owner__username"), **area_columns)
        .values_list(
            "id",
            "title",
            "owner_name",
            "stage",
            "state",
            "confidence",
            "confidential",
            "labels",
            "created_at",
            "updated_at",
            *area_columns,
        )
    )
    writer = csv.writer(RowSink())
    stage_labels = {stage.value: label for stage, label in STAGE_LABELS.items()}
    state_labels = dict(Proposal.State.choices)
    confidence_labels = dict(Proposal.Confidence.choices)
    yield writer.writerow(
        [
            "ID",
            "Title",
            "Owner",
            "Stage",
            "State",
            "Confidence",
            "Confidential",
            "Labels",
            "Created",
            "Updated",
            *(f"ORR {area.number}: {area.title}" for area in areas),
        ]
    )
    zone = timezone.get_current_timezone()
    lines = []
    for pk, title, owner, stage, state, confidence, confidential, labels, created, updated, *orr in rows.iterator(
        chunk_size=CSV_CHUNK
    ):
        lines.append(
            writer.writerow(
                [
                    pk,
                    safe_cell(title),
                    safe_cell(owner),
                    stage_labels.get(stage, stage),
                    state_labels.get(state, state),
                    confidence_labels.get(confidence, ""),
                    "yes" if confidential else "no",
                    safe_cell(" ".join(f"~{label}" for label in labels or ())),
                    created.astimezone(zone).isoformat(timespec="seconds"),
                    updated.astimezone(zone).isoformat(timespec="seconds"),
                    *(status_labels.get(status, "") for status in orr),
                ]
            )
        )
        # A chunk of rows per write: one write per row would cost more than the row itself.
        if len(lines) == CSV_CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
