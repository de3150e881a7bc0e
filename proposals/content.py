"""ProposalContent <-> Proposal: a saved proposal read into the plain content ``proposals.markdown`` speaks.

``render(content_from_proposal(proposal))`` is the proposal's issue body. The way back, content written onto
a proposal, is ``proposals.template_moves.proposal_set_content``.
"""

from __future__ import annotations

from proposals.markdown import (
    START,
    KeptBlock,
    Link,
    OrrAnswer,
    PersonaMention,
    ProposalContent,
    canonical,
    text_field_names,
)
from proposals.models import Proposal
from proposals.template import Kind, get_definition

# What ``content_from_proposal`` reads; prefetch these and rendering runs no query.
RENDER_PREFETCH = ("persona_tags", "research_links", "requirements", "checklist_items", "reviews__area")


def content_from_proposal(proposal: Proposal) -> ProposalContent:
    """Read a saved proposal into content. With ``RENDER_PREFETCH`` prefetched this runs no query."""
    definition = get_definition(proposal.template_version)
    fields = {name: proposal.field_value(name) or "" for name in text_field_names(definition)}
    lists: dict[str, tuple[str, ...]] = {}
    for f in definition.fields:
        if f.kind != Kind.REQUIREMENTS:
            continue
        if f.name == "requirements":
            lists[f.name] = tuple(r.text for r in proposal.requirements.all())
        else:
            value = (proposal.extra_fields or {}).get(f.name) or ()
            lists[f.name] = tuple(value.split("\n") if isinstance(value, str) else value)
    orr = {}
    for review in _reviews(proposal):
        orr[review.area.key] = OrrAnswer(review.answer or "", review.get_status_display())
    kept = []
    for block in proposal.kept_blocks or ():
        if isinstance(block, dict):
            kept.append(KeptBlock(str(block.get("after") or ""), str(block.get("markdown") or "")))
        elif isinstance(block, str):
            kept.append(KeptBlock(START, block))
    return canonical(
        ProposalContent(
            template_version=definition.version,
            fields=fields,
            persona_tags=tuple(PersonaMention(p.name, p.role, p.handbook_url) for p in proposal.persona_tags.all()),
            confidence=proposal.confidence or "",
            research_links=tuple(Link(link.title, link.url) for link in proposal.research_links.all()),
            lists=lists,
            checked=frozenset((item.stage, item.key) for item in proposal.checklist_items.all() if item.checked),
            orr=orr,
            kept_blocks=tuple(kept),
        )
    )


def _reviews(proposal):
    """The proposal's ORR reviews with their areas, in one query at most (none when prefetched)."""
    if proposal.pk is None:
        return ()
    cached = getattr(proposal, "_prefetched_objects_cache", {}).get("reviews")
    if cached is not None and all(type(r).area.is_cached(r) for r in cached):
        return cached
    return proposal.reviews.select_related("area")
