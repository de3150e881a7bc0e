"""Full-text search over every part of a proposal, ranked, with highlighted snippets.

Each searchable part (the title, every template field, requirements, research links, sections
kept from GitLab, and what other apps register: ORR answers, comments) is one `SearchEntry` row,
rebuilt by `search_index_proposal` whenever the proposal's writers announce a change
(`proposal_changed`, sent inside the writing transaction, so the index commits with the change).

PostgreSQL: each row's ``vector`` is ``setweight(to_tsvector('english', text), weight)`` under a
GIN index; a query is GitLab-like web search syntax (``websearch_to_tsquery``: words, "phrases",
-exclusions, or), ranked by `SearchRank` summed over a proposal's parts, with `SearchHeadline`
snippets. Other databases (the embedded SQLite): every word must appear in the proposal
(case-insensitive substring), ranked by occurrences weighted like PostgreSQL's, with snippets cut
in Python. Both only ever look at proposals the person may read.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.postgres.aggregates import BoolOr
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, F, Func, IntegerField, Q, Sum, TextField, Value
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from proposals.markdown import text_field_names
from proposals.models import Proposal, Requirement, ResearchLink, SearchEntry
from proposals.template import get_definition

CONFIG = "english"
MAX_QUERY_LENGTH = 200
SNIPPETS_PER_PROPOSAL = 3
SNIPPET_CONTEXT = 60  # characters either side of a match in the fallback's snippets
# How much a match counts by where it is: title A, fields B, links and kept blocks C (PostgreSQL's weights).
FALLBACK_WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}

# Headline markers no stored text holds (they are removed from what is indexed), turned into <mark> after escaping.
_START, _STOP = "\ue000", "\ue001"


@dataclass(frozen=True)
class Part:
    part: str  # a stable key: "title", "field:user_problem", "orr:data", "requirement:3", "comment:12"
    label: str  # what a reader calls it
    text: str
    weight: str = "B"


# Parts other apps add to a proposal's document (ORR answers, comments): functions from a proposal to parts,
# each with, where its app gives one, its twin for many proposals at once ({proposal id: parts}).
_sources: list[Callable[[Proposal], Iterable[Part]]] = []
_many_sources: dict[Callable, Callable[[list[Proposal]], dict[int, list[Part]]]] = {}


def register_source(
    source: Callable[[Proposal], Iterable[Part]],
    *,
    many: Callable[[list[Proposal]], dict[int, list[Part]]] | None = None,
) -> None:
    """``many``: the same parts for a list of proposals in a fixed number of queries (a batch import)."""
    if source not in _sources:
        _sources.append(source)
    if many is not None:
        _many_sources[source] = many


def _text_parts(proposal: Proposal, names: Iterable[str]) -> list[Part]:
    """The title and template fields among ``names``, as parts (empty ones too, so a cleared field is dropped)."""
    definition = get_definition(proposal.template_version)
    parts = []
    for name in names:
        if name == "title":
            parts.append(Part("title", "Title", proposal.title, "A"))
            continue
        try:
            label = definition.field(name).label
        except KeyError:
            label = name.replace("_", " ").capitalize()
        parts.append(Part(f"field:{name}", label, str(proposal.field_value(name) or "")))
    return parts


def proposal_parts(proposal: Proposal) -> list[Part]:
    """Every searchable part of the proposal, with text."""
    return proposals_parts([proposal])[proposal.pk]


def proposals_parts(proposals: list[Proposal]) -> dict[int, list[Part]]:
    """Every searchable part of each proposal, with text, by proposal id: the same queries for one or many."""
    ids = [proposal.pk for proposal in proposals]
    # Read fresh: the proposals in hand may carry lists prefetched before the write.
    requirements: dict[int, list[Part]] = {pk: [] for pk in ids}
    for requirement in Requirement.objects.filter(proposal__in=ids):
        requirements[requirement.proposal_id].append(
            Part(f"requirement:{requirement.pk}", "Requirement", requirement.text)
        )
    links: dict[int, list[Part]] = {pk: [] for pk in ids}
    for link in ResearchLink.objects.filter(proposal__in=ids):
        links[link.proposal_id].append(
            Part(f"research:{link.pk}", "Research link", f"{link.title} {link.url}".strip(), "C")
        )
    sourced: list[dict[int, list[Part]]] = []
    for source in _sources:
        many = _many_sources.get(source)
        sourced.append(many(proposals) if many else {p.pk: list(source(p)) for p in proposals})
    result = {}
    for proposal in proposals:
        definition = get_definition(proposal.template_version)
        parts = _text_parts(proposal, ["title", *text_field_names(definition)])
        for name, value in (proposal.extra_fields or {}).items():
            if name not in text_field_names(definition):
                parts.append(Part(f"extra:{name}", name.replace("_", " ").capitalize(), str(value), "C"))
        parts += requirements[proposal.pk] + links[proposal.pk]
        for position, block in enumerate(proposal.kept_blocks or ()):
            text = block.get("markdown", "") if isinstance(block, dict) else str(block)
            parts.append(Part(f"kept:{position}", "Section added on GitLab", str(text), "C"))
        for by_proposal in sourced:
            parts.extend(by_proposal.get(proposal.pk, ()))
        result[proposal.pk] = [p for p in parts if p.text and p.text.strip()]
    return result


def _stored(part: Part) -> Part:
    """A part as its entry stores it: key and label cut to their columns, no highlight marks in the text."""
    return Part(part.part[:120], part.label[:255], part.text.replace(_START, "").replace(_STOP, ""), part.weight)


def _entry(proposal_id: int, part: Part) -> SearchEntry:
    part = _stored(part)
    text = part.text
    entry = SearchEntry(proposal_id=proposal_id, part=part.part, label=part.label, text=text, weight=part.weight)
    if connection.vendor == "postgresql":
        # Computed in the INSERT itself, as setweight(to_tsvector(config, text), weight): no second statement.
        entry.vector = SearchVector(Value(text, output_field=TextField()), config=CONFIG, weight=part.weight)
    return entry


# One statement on PostgreSQL: the old entries go and the new ones come with their vectors, computed as
# `_entry` computes them. Every autosave and every GitLab edit rewrites a part, so this is written by hand:
# the ORM takes two round trips and resolves the vector expression again for every row.
_REPLACE_ENTRIES = """
WITH gone AS (
    DELETE FROM {table} WHERE proposal_id = %(proposal)s AND (%(every)s OR part = ANY(%(replacing)s::text[]))
)
INSERT INTO {table} (proposal_id, part, label, text, weight, vector)
SELECT %(proposal)s, part, label, text, weight, setweight(to_tsvector(%(config)s::regconfig, text), weight::"char")
FROM unnest(%(parts)s::text[], %(labels)s::text[], %(texts)s::text[], %(weights)s::text[])
    AS entry(part, label, text, weight)
"""


def _write_entries(proposal: Proposal, parts: list[Part], *, replacing: list[str] | None = None) -> None:
    """Replace the proposal's entries (all, or those named in ``replacing``) with ``parts`` that have text."""
    parts = [p for p in parts if p.text and p.text.strip()]
    if connection.vendor == "postgresql":
        entries = [_stored(p) for p in parts]
        with connection.cursor() as cursor:
            cursor.execute(
                _REPLACE_ENTRIES.format(table=SearchEntry._meta.db_table),
                {
                    "proposal": proposal.pk,
                    "every": replacing is None,
                    "replacing": list(replacing or ()),
                    "config": CONFIG,
                    "parts": [entry.part for entry in entries],
                    "labels": [entry.label for entry in entries],
                    "texts": [entry.text for entry in entries],
                    "weights": [entry.weight for entry in entries],
                },
            )
        return
    stale = SearchEntry.objects.filter(proposal=proposal)
    if replacing is not None:
        stale = stale.filter(part__in=replacing)
    stale.delete()
    SearchEntry.objects.bulk_create(_entry(proposal.pk, p) for p in parts)


def search_index_proposal(proposal: Proposal) -> None:
    """Rebuild the proposal's search entries from what it holds now (inside the writer's transaction)."""
    _write_entries(proposal, proposal_parts(proposal))


def search_index_proposals(proposals: Iterable[Proposal]) -> None:
    """Rebuild the search entries of many proposals: one DELETE and one INSERT for all of them."""
    proposals = list(proposals)
    if not proposals:
        return
    parts = proposals_parts(proposals)
    entries = [_entry(proposal.pk, part) for proposal in proposals for part in parts[proposal.pk]]
    SearchEntry.objects.filter(proposal__in=[proposal.pk for proposal in proposals]).delete()
    SearchEntry.objects.bulk_create(entries)


# Proposals whose index waits for the end of a `deferred_indexing` block (None: not deferring).
_deferred: ContextVar[set[int] | None] = ContextVar("search_deferred", default=None)


@contextmanager
def deferred_indexing():
    """Inside, changed proposals are indexed once each when the block ends, all in one write, instead of
    at every change: an import creates a proposal and then applies the issue to it, a batch at a time.
    Use it inside the writers' transaction, so the index still commits with the changes."""
    if _deferred.get() is not None:  # an outer block indexes them
        yield
        return
    pending: set[int] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    # Only after the block succeeded; proposals rolled back with a savepoint no longer exist.
    search_index_proposals(Proposal.objects.filter(pk__in=pending).order_by("pk"))


# Changes that touch no searchable text: the index stays as it is.
_UNSEARCHED_CHANGES = {"checklist", "confidence", "confidential", "labels", "state", "stage"}


def _unsearched(key: str) -> bool:
    return key in _UNSEARCHED_CHANGES or key.startswith(("check:", "na:"))


def on_proposal_changed(sender, *, proposal: Proposal, fields: list[str] = (), **kwargs) -> None:
    # Writers name what changed by content key ("title", "field:user_problem", "check:…") or by part of the
    # proposal ("requirements"). An autosave changes a field or two: only their entries are rewritten.
    changed = {key for key in fields if not _unsearched(key)}
    if fields and not changed:
        return
    pending = _deferred.get()
    if pending is not None:
        pending.add(proposal.pk)
        return
    names = {key.removeprefix("field:") for key in changed}
    if changed and all(key == "title" or key.startswith("field:") for key in changed):
        parts = _text_parts(proposal, sorted(names))
        _write_entries(proposal, parts, replacing=[p.part[:120] for p in parts])
    else:
        search_index_proposal(proposal)


def search_reindex_all() -> int:
    """Index every proposal (after an upgrade, or to repair the index). Returns how many."""
    count = 0
    for proposal in Proposal.objects.iterator(chunk_size=200):
        search_index_proposal(proposal)
        count += 1
    return count


# --- Reading ----------------------------------------------------------------------------------


@dataclass
class Snippet:
    label: str
    html: SafeString


@dataclass
class Hit:
    proposal: Proposal
    rank: float
    snippets: list[Snippet] = field(default_factory=list)


class Results:
    """A page of hits, sliceable and countable so a Paginator can page it."""

    def __init__(self, count: Callable[[], int], page: Callable[[int, int], list[Hit]]):
        self._count, self._page = count, page

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[Hit]:
        return self._page(key.start or 0, key.stop)


def _highlight(headline: str) -> SafeString:
    """A headline with our markers, as safe HTML: the text escaped, the markers as <mark>."""
    html = escape(headline).replace(_START, "<mark>").replace(_STOP, "</mark>")
    return mark_safe(" ".join(html.split()))  # noqa: S308 - escaped above; only our <mark> tags are added


def search(text: str, *, visible) -> Results:
    """Hits for ``text`` among the ``visible`` proposals (the person's `visible_to`), best first."""
    text = " ".join(text.split())[:MAX_QUERY_LENGTH]
    if not text:
        return Results(lambda: 0, lambda start, stop: [])
    if connection.vendor == "postgresql":
        return _search_postgresql(text, visible)
    return search_fallback(text, visible=visible)


class _AnyOf(Func):
    """``id = ANY('{1,2,3}'::bigint[])``: ids as one array literal; ``pk__in`` (one parameter per id) and an
    ArrayField value (prepared id by id) each cost more CPU than the query itself for ten thousand ids."""

    output_field = BooleanField()

    def __init__(self, column, ids: list[int]):
        super().__init__(column)
        self.ids = ids

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::bigint[])", [*params, "{" + ",".join(str(int(pk)) for pk in self.ids) + "}"]


def filter_matching(proposals, text: str):
    """The ``proposals`` that ``text`` finds, in their own order: the proposal list's (and the API's and the
    dashboard's) text filter. The same matching as `search`, without ranking or snippets, so another filter and
    the list's sort combine with it. PostgreSQL asks the GIN index; elsewhere every word must be in some part."""
    text = " ".join(text.split())[:MAX_QUERY_LENGTH]
    if not text:
        return proposals
    if connection.vendor == "postgresql":
        # The matching proposals' ids are read first, in one pass over the GIN index, and handed over as an array:
        # the planner cannot tell a word in one proposal from a word in ten thousand, and guessing "many" for a
        # rare word walks the whole list newest first (seconds at 100,000). Knowing how many, it plans well both
        # ways, and the page and its count share one read of the index.
        ids = list(_matching_entries(text).values_list("proposal", flat=True))
        return proposals.filter(_AnyOf(F("pk"), ids))
    return filter_matching_fallback(proposals, text)


def filter_matching_fallback(proposals, text: str):
    """`filter_matching` without PostgreSQL: every word somewhere in the proposal, as `search_fallback` finds."""
    terms = _terms(text)
    if not terms:
        return proposals.none()
    for term in terms:
        proposals = proposals.filter(pk__in=SearchEntry.objects.filter(text__icontains=term).values("proposal"))
    return proposals


def _search_postgresql(text: str, visible) -> Results:
    query = _any_word(text)
    ranked = (
        _matching_entries(text)
        .filter(proposal__in=visible.values("pk"))
        .annotate(rank=Sum(SearchRank(F("vector"), query)))
        .order_by("-rank", "-proposal")
    )

    def page(start: int, stop: int) -> list[Hit]:
        rows = list(ranked[start:stop])
        ids = [row["proposal"] for row in rows]
        proposals = Proposal.objects.select_related("owner").in_bulk(ids)
        hits = {pk: Hit(proposal=proposals[pk], rank=row["rank"]) for pk, row in zip(ids, rows, strict=True)}
        entries = (
            SearchEntry.objects.filter(proposal__in=ids, vector=query)
            .annotate(
                entry_rank=SearchRank(F("vector"), query),
                headline=SearchHeadline(
                    "text",
                    query,
                    config=CONFIG,
                    start_sel=_START,
                    stop_sel=_STOP,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
            # An entry holding every word makes the best snippet, whatever the weight of a title.
            .annotate(every_word=ExpressionWrapper(Q(vector=_all_words(text)), output_field=BooleanField()))
            .order_by("proposal", "-every_word", "-entry_rank", "id")
            .values_list("proposal", "label", "headline")
        )
        for proposal_id, label, headline in entries:
            snippets = hits[proposal_id].snippets
            if len(snippets) < SNIPPETS_PER_PROPOSAL:
                snippets.append(Snippet(label, _highlight(headline)))
        return [hits[pk] for pk in ids]

    return Results(ranked.count, page)


_WORD = re.compile(r"\w[\w'’.-]*\w|\w", re.UNICODE)
# websearch_to_tsquery's operators: a "quoted phrase", -word (not), or.
_OPERATORS = re.compile(r'"|(?:^|\s)-\w|\sor\s', re.IGNORECASE)


def _word_queries(text: str) -> list[SearchQuery]:
    """One query per word, as a prefix: the word in any form ("summaries" finds "summary") and the words it
    begins, so the list finds as one types ("summ"). Text with websearch's operators is one query, as written."""
    if _OPERATORS.search(text):
        return [SearchQuery(text, search_type="websearch", config=CONFIG)]
    queries = []
    for term in _terms(text):
        # Only word characters reach to_tsquery's own syntax; "node.js" asks for both pieces.
        prefixes = " & ".join(f"{piece}:*" for piece in re.findall(r"\w+", term))
        # to_tsquery stems a prefix as it stems a word ("summaries:*" asks for summari:*): this one query finds
        # the word, its other forms and the words it begins.
        queries.append(SearchQuery(prefixes, search_type="raw", config=CONFIG))
    return queries or [SearchQuery(text, search_type="websearch", config=CONFIG)]


def _any_word(text: str) -> SearchQuery:
    return functools.reduce(operator.or_, _word_queries(text))


def _all_words(text: str) -> SearchQuery:
    return functools.reduce(operator.and_, _word_queries(text))


def _matching_entries(text: str):
    """Search entries grouped by proposal (``values("proposal")``), keeping the proposals where every word is
    in some part, not necessarily the same one: a title word and a word of the answers find it together."""
    words = _word_queries(text)
    entries = SearchEntry.objects.filter(vector=functools.reduce(operator.or_, words)).values("proposal")
    if len(words) == 1:
        return entries.distinct()
    found, ignored = {}, {}
    for n, word in enumerate(words):
        found[f"has_word_{n}"] = BoolOr(ExpressionWrapper(Q(vector=word), output_field=BooleanField()))
        # A stop word ("the") asks for nothing: it is left out, as websearch leaves it out of a phrase.
        ignored[f"stop_word_{n}"] = Func(word, function="numnode", output_field=IntegerField())
    every_word = [Q(**{has: True}) | Q(**{stop: 0}) for has, stop in zip(found, ignored, strict=True)]
    return entries.annotate(**ignored, **found).filter(*every_word)


def _terms(text: str) -> list[str]:
    return list(dict.fromkeys(term.casefold() for term in _WORD.findall(text)))[:8]


def fallback_snippet(text: str, terms: list[str]) -> SafeString:
    """A piece of ``text`` around its first match, every match marked; the text escaped."""
    folded = text.casefold()
    positions = [(m.start(), m.end()) for t in terms for m in re.finditer(re.escape(t), folded)]
    if not positions:
        return _highlight(text[: SNIPPET_CONTEXT * 2])
    first = min(start for start, _ in positions)
    begin = max(0, first - SNIPPET_CONTEXT)
    end = min(len(text), first + SNIPPET_CONTEXT * 2)
    marked, cursor = [], begin
    for start, stop in sorted(positions):
        if start < cursor or start >= end:
            continue
        marked += [text[cursor:start], _START, text[start:stop], _STOP]
        cursor = stop
    marked.append(text[cursor:end])
    return _highlight(("… " if begin else "") + "".join(marked) + (" …" if end < len(text) else ""))


def search_fallback(text: str, *, visible) -> Results:
    """Search without PostgreSQL: every word somewhere in the proposal, ranked by weighted occurrences."""
    terms = _terms(text)
    if not terms:
        return Results(lambda: 0, lambda start, stop: [])
    entries = SearchEntry.objects.filter(proposal__in=visible.values("pk"))
    candidates: set[int] | None = None
    for term in terms:
        found = set(entries.filter(text__icontains=term).values_list("proposal", flat=True))
        candidates = found if candidates is None else candidates & found
    scored: dict[int, float] = {}
    snippets: dict[int, list[tuple[float, str, SafeString]]] = {}
    for proposal_id, label, body, weight in entries.filter(proposal__in=candidates or ()).values_list(
        "proposal", "label", "text", "weight"
    ):
        folded = body.casefold()
        occurrences = sum(folded.count(term) for term in terms)
        if not occurrences:
            continue
        score = occurrences * FALLBACK_WEIGHTS.get(weight, 0.1)
        snippets.setdefault(proposal_id, []).append((score, label, fallback_snippet(body, terms)))
        scored[proposal_id] = scored.get(proposal_id, 0.0) + score
    order = sorted(scored, key=lambda pk: (-scored[pk], -pk))

    def page(start: int, stop: int) -> list[Hit]:
        ids = order[start:stop]
        proposals = Proposal.objects.select_related("owner").in_bulk(ids)
        hits = []
        for pk in ids:
            best = sorted(snippets[pk], key=lambda s: -s[0])[:SNIPPETS_PER_PROPOSAL]
            hits.append(Hit(proposals[pk], scored[pk], [Snippet(label, html) for _, label, html in best]))
        return hits

    return Results(lambda: len(order), page)
