"""Which checklist item a task line is, when the author reworded it a little.

A typo fixed (``inforamtion`` -> ``information``), a note appended (``Your proposal (see &12)``), a
mention filled in (``@ mention your AppSec Stable Counterpart`` -> ``@jdoe (AppSec Stable Counterpart)``)
or an ``@user`` added keep the item what it was. The rule, on the words ``norm`` gives:

- the line keeps the item's words in order; a word may carry a typo (five letters or more, at most one
  edit in four letters); at most a quarter of the item's words may be gone, none of an item of three
  words or fewer;
- words may be added before and after; between the item's words, at most two (or a quarter of them);
- exactly one item of the checklist passes, or one passes with all its words kept while every other
  lost one, or with clearly more of its words kept (a fifth) than any other: a line close to two items of
  the same checklist is neither, and stays the author's own text.

Each line is compared with a fixed number of items, each at most ``MAX_WORDS`` words: linear in the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache

from proposals.markdown.lines import norm
from proposals.template import DEFINITIONS, get_definition

MAX_WORDS = 120  # a longer task line is nobody's rewording of a template item
MARGIN = 0.2  # how many more of its words the best item must keep than the runner-up


@dataclass(frozen=True)
class _Wording:
    key: str
    words: tuple[str, ...]
    vocabulary: frozenset[str]


@cache
def _wordings(version: str, stage: str) -> tuple[_Wording, ...]:
    """Every wording of each item of a checklist: this version's, and other versions' for the same key."""
    checklist = next((c for c in get_definition(version).checklists if c.stage.value == stage), None)
    if checklist is None:
        return ()
    keys = {item.key for item in checklist.items}
    texts: dict[tuple[str, str], None] = {}
    for item in checklist.items:
        texts[(item.key, norm(item.text))] = None
    for other in DEFINITIONS.values():
        for other_checklist in other.checklists:
            if other_checklist.stage.value == stage:
                for item in other_checklist.items:
                    if item.key in keys:
                        texts[(item.key, norm(item.text))] = None
    return tuple(_Wording(key, tuple(text.split()), frozenset(text.split())) for key, text in texts if text)


@cache
def _exact(version: str, stage: str) -> dict[str, str]:
    """Item keys by the exact (normalised) text of one of their wordings; a text two items share is left out."""
    found: dict[str, set[str]] = {}
    for wording in _wordings(version, stage):
        found.setdefault(" ".join(wording.words), set()).add(wording.key)
    return {text: next(iter(keys)) for text, keys in found.items() if len(keys) == 1}


def _close(a: str, b: str) -> bool:
    """One word typed for the other: both five letters or more, at most one edit in four letters."""
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 2:
        return False
    return _edits(a, b) <= max(1, min(len(a), len(b)) // 4)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance with transpositions (optimal string alignment); words are short."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _kept_share(line: tuple[str, ...], item: tuple[str, ...]) -> tuple[int, float] | None:
    """(how many of the item's words the line lost, the share it keeps), in order (typos counted as kept),
    when the line passes the rule; else None."""
    matcher = SequenceMatcher(None, item, line, autojunk=False)
    kept = 0
    positions: list[int] = []  # where in the line the item's kept words stand
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            kept += i2 - i1
            positions += range(j1, j2)
        elif tag == "replace":
            for offset in range(min(i2 - i1, j2 - j1)):
                if _close(item[i1 + offset], line[j1 + offset]):
                    kept += 1
                    positions.append(j1 + offset)
    lost = len(item) - kept
    if kept == 0 or (lost and len(item) <= 3) or lost > len(item) // 4:
        return None
    inserted = (positions[-1] - positions[0] + 1) - kept
    if inserted > max(2, len(item) // 4):
        return None
    return lost, kept / len(item)


def _better(score: tuple[int, float], than: tuple[int, float] | None) -> bool:
    return than is None or (score[0], -score[1]) < (than[0], -than[1])


@lru_cache(maxsize=4096)
def item_for_wording(version: str, stage: str, text: str) -> str | None:
    """The key of the item of this version's ``stage`` checklist that the task text is (exactly, or
    reworded a little), else None."""
    words = norm(text)
    exact = _exact(version, stage).get(words)
    if exact is not None:
        return exact
    line = tuple(words.split())
    if not line or len(line) > MAX_WORDS:
        return None
    vocabulary = set(line)
    best: dict[str, tuple[int, float]] = {}  # by item key: (words lost, share kept) of its closest wording
    for wording in _wordings(version, stage):
        # Cheap first: too few of the item's words present (typos aside) means no match at all.
        if len(wording.vocabulary - vocabulary) > max(0, len(wording.words) // 4) + 1:
            continue
        score = _kept_share(line, wording.words)
        if score is not None and (
            wording.key not in best or (score[0], -score[1]) < (best[wording.key][0], -best[wording.key][1])
        ):
            best[wording.key] = score
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda pair: (pair[1][0], -pair[1][1]))
    if len(ranked) > 1:
        (_, (lost, share)), (_, (runner_lost, runner_share)) = ranked[0], ranked[1]
        # Two items that differ in a word ("feature" / "service"): the one whose every word is there wins.
        if not (lost == 0 < runner_lost or share - runner_share >= MARGIN):
            return None  # close to two items: neither
    return ranked[0][0]


@lru_cache(maxsize=4096)
def reads_as_any_item(text: str) -> bool:
    """Does this task text read as an item of any checklist of any template version, even reworded?"""
    return any(
        item_for_wording(version, checklist.stage.value, text) is not None
        for version, definition in DEFINITIONS.items()
        for checklist in definition.checklists
    )
