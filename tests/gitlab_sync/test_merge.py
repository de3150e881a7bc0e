"""The three-way merge rules, as tables: base, Stagegate, GitLab → what both end up holding."""

from __future__ import annotations

import pytest

from gitlab_sync.merge import merge_label_sets, merge_lists, merge_values


@pytest.mark.parametrize(
    ("base", "local", "remote", "merged", "pulled", "conflict"),
    [
        ("a", "a", "a", "a", False, False),  # nobody changed it
        ("a", "b", "a", "b", False, False),  # only Stagegate changed it: pushed
        ("a", "a", "c", "c", True, False),  # only GitLab changed it: pulled
        ("a", "b", "b", "b", False, False),  # both made the same change
        ("a", "b", "c", "c", False, True),  # both changed it differently: GitLab keeps its text
        (None, "b", "c", "c", False, True),  # no common base and different: a conflict, not a guess
    ],
)
def test_text_fields(base, local, remote, merged, pulled, conflict):
    outcome = merge_values({"field:x": base}, {"field:x": local}, {"field:x": remote})
    assert outcome.merged["field:x"] == merged
    assert ("field:x" in outcome.take_remote) is pulled
    assert ("field:x" in outcome.conflicts) is conflict
    # A conflict keeps the old base, so it stays a conflict until someone chooses.
    assert outcome.new_base["field:x"] == (base if conflict else merged)


@pytest.mark.parametrize(
    ("base", "local", "remote", "merged"),
    [
        (False, True, False, True),  # ticked in Stagegate
        (False, False, True, True),  # ticked on GitLab
        (True, False, True, False),  # unticked in Stagegate
        (None, True, False, True),  # no base: a tick is never lost
    ],
)
def test_checklist_ticks_never_conflict(base, local, remote, merged):
    key = "check:experiment:designs"
    outcome = merge_values({key: base} if base is not None else {}, {key: local}, {key: remote})
    assert outcome.merged[key] is merged and not outcome.conflicts


def test_lists_merge_by_item():
    base = ["log in", "export"]
    local = ["log in", "export", "share"]  # added in Stagegate
    remote = ["log in", "search"]  # "export" removed and "search" added on GitLab
    assert merge_lists(base, local, remote) == ["log in", "share", "search"]
    outcome = merge_values({"list:requirements": base}, {"list:requirements": local}, {"list:requirements": remote})
    assert outcome.merged["list:requirements"] == ["log in", "share", "search"] and not outcome.conflicts


@pytest.mark.parametrize(
    ("base", "local", "remote", "merged"),
    [
        (["wg"], ["wg", "ux"], ["wg"], ["wg", "ux"]),  # added in Stagegate
        (["wg"], ["wg"], ["wg", "security"], ["wg", "security"]),  # added on GitLab: kept
        (["wg", "old"], ["wg"], ["wg", "old", "security"], ["wg", "security"]),  # removed here, added there
        (["wg", "x"], ["wg", "x"], ["wg"], ["wg"]),  # removed on GitLab
    ],
)
def test_label_sets(base, local, remote, merged):
    assert sorted(merge_label_sets(base, local, remote)) == sorted(merged)
