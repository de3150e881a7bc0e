"""Three-way merge of Stagegate's and GitLab's values against the last agreed base. Pure: no database.

Values are the flat snapshots of `gitlab_sync.fields` (``title``, ``field:<name>``,
``check:<stage>:<key>``, ``list:<name>``, ...), compared key by key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Ordered collections: merged item by item, never a conflict.
LIST_KEYS = ("research_links", "persona_tags", "kept_blocks")


def is_list_key(key: str) -> bool:
    return key in LIST_KEYS or key.startswith("list:")


@dataclass
class Merge:
    """The outcome of merging Stagegate's and GitLab's values against the base, key by key."""

    merged: dict[str, Any] = field(default_factory=dict)  # what GitLab should hold afterwards
    take_remote: dict[str, Any] = field(default_factory=dict)  # to apply to the proposal
    conflicts: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)  # key: (base, local, remote)
    new_base: dict[str, Any] = field(default_factory=dict)


def merge_lists(base: list | None, local: list | None, remote: list | None) -> list:
    """Three-way merge of ordered lists by item: removals on either side win, additions from both are kept."""
    base, local, remote = list(base or []), list(local or []), list(remote or [])
    removed = [item for item in base if item not in local or item not in remote]
    result = [item for item in local if item not in removed]
    result += [item for item in remote if item not in base and item not in result]
    return result


def merge_values(base: dict, local: dict, remote: dict) -> Merge:
    outcome = Merge()
    for key in sorted(set(base) | set(local) | set(remote)):
        b, lv, r = base.get(key), local.get(key), remote.get(key)
        if lv == r:
            outcome.merged[key] = outcome.new_base[key] = lv
        elif lv == b:
            outcome.merged[key] = outcome.new_base[key] = r
            outcome.take_remote[key] = r
        elif r == b:
            outcome.merged[key] = outcome.new_base[key] = lv
        elif is_list_key(key):
            value = merge_lists(b, lv, r)
            outcome.merged[key] = outcome.new_base[key] = value
            if value != lv:
                outcome.take_remote[key] = value
        elif isinstance(lv, bool) and isinstance(r, bool):
            # A tick changed on both sides from no common base: the tick wins.
            value = lv or r
            outcome.merged[key] = outcome.new_base[key] = value
            if value != lv:
                outcome.take_remote[key] = value
        else:
            # Both changed differently: GitLab keeps its text, Stagegate keeps the author's,
            # and the base stays where it was until the author resolves the conflict.
            outcome.merged[key] = r
            outcome.new_base[key] = b
            outcome.conflicts[key] = (b, lv, r)
    return outcome


def merge_label_sets(base: list, local: list, remote: list) -> list[str]:
    """Labels never conflict: what either side removed goes, what either side added stays."""
    b, lv, r = set(base), set(local), set(remote)
    keep = (b & lv & r) | (lv - b) | (r - b)
    ordered = [name for name in remote if name in keep]
    return ordered + [name for name in local if name in keep and name not in ordered]
