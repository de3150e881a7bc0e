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
