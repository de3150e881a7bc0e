"""Word-level differences between two texts, for showing a conflict side by side (pure, no database)."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(theirs: str, mine: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both texts cut into (text, differs) runs: `differs` marks the words the other text does not have."""
    left, right = _WORDS.findall(theirs or ""), _WORDS.findall(mine or "")
    theirs_runs: list[tuple[str, bool]] = []
    mine_runs: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes():
        changed = op != "equal"
        if i2 > i1:
            theirs_runs.append(("".join(left[i1:i2]), changed))
        if j2 > j1:
            mine_runs.append(("".join(right[j1:j2]), changed))
    return theirs_runs, mine_runs


# Unchanged stretches longer than this many words either side of a change are cut to "…".
DIFF_CONTEXT_WORDS = 12


def inline_word_diff(before: str, after: str, *, context: int = DIFF_CONTEXT_WORDS) -> list[tuple[str, str]]:
    """One text from ``before`` to ``after`` as (op, text) runs: "=" kept, "-" removed, "+" added, "…" cut.

    Long unchanged stretches keep ``context`` words next to each change, so a one-word edit in a
    long answer reads as that word in its sentence.
    """
    left, right = _WORDS.findall(before or ""), _WORDS.findall(after or "")
    runs: list[tuple[str, str]] = []
    opcodes = SequenceMatcher(a=left, b=right, autojunk=False).get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            words = left[i1:i2]
            keep = context * 2  # tokens alternate word and space
            first, last = index == 0, index == len(opcodes) - 1
            if len(words) > keep * (1 if first or last else 2) + 1 and len(opcodes) > 1:
                head = [] if first else words[:keep]
                tail = [] if last else words[-keep:]
                runs += [("=", "".join(head))] if head else []
                runs.append(("…", " … "))
                runs += [("=", "".join(tail))] if tail else []
            else:
                runs.append(("=", "".join(words)))
            continue
        if i2 > i1:
            runs.append(("-", "".join(left[i1:i2])))
        if j2 > j1:
            runs.append(("+", "".join(right[j1:j2])))
    return runs
