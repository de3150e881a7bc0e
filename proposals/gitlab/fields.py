"""A proposal's synced content as a flat snapshot, from either side.

Both the proposal (``local_snapshot``) and the issue body (``remote_snapshot``,
through ``proposals.markdown.parse``) become the same shape of dict, keyed
``title``, ``field:<name>``, ``confidence``, ``check:<stage>:<key>``,
``requirements``, ``research_links`` and ``kept_blocks``, so the merge in
``sync.py`` can compare them key by key without knowing the template.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db.models import F

from proposals.models import Activity, ChecklistItem, Proposal, Requirement, ResearchLink
from proposals.template import NEEDS_FIELDS, Kind

# Keys whose value lives in the issue description (everything but the title).
TITLE = "title"


def normalise(text: Any) -> str:
    """Texts compare equal across GitLab's and browsers' line endings and trailing blanks."""
    if text is None:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def text_field_names(proposal: Proposal) -> list[str]:
    names = [f.name for f in proposal.definition.fields if f.kind in (Kind.TEXT, Kind.PERSONAS)]
    return names + [name for name in NEEDS_FIELDS if name not in names]


def local_snapshot(proposal: Proposal) -> dict[str, Any]:
    snapshot: dict[str, Any] = {TITLE: normalise(proposal.title)}
    for name in text_field_names(proposal):
        snapshot[f"field:{name}"] = normalise(proposal.field_value(name))
    snapshot["confidence"] = proposal.confidence or ""
    for item in proposal.checklist_items.all():
        snapshot[f"check:{item.stage}:{item.key}"] = bool(item.checked)
    snapshot["requirements"] = [normalise(r.text) for r in proposal.requirements.all()]
    snapshot["research_links"] = [[link.title, link.url] for link in proposal.research_links.all()]
    snapshot["kept_blocks"] = list(proposal.kept_blocks or [])
    return snapshot


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def remote_snapshot(issue: dict[str, Any]) -> dict[str, Any]:
    """The issue's title and description as a snapshot (see module docstring)."""
    from proposals.markdown import parse

    result = parse(issue.get("description") or "")
    snapshot: dict[str, Any] = {TITLE: normalise(issue.get("title"))}
    for name, value in (_get(result, "fields", default={}) or {}).items():
        if name in ("confidence", "requirements"):
            continue
        snapshot[f"field:{name}"] = normalise(value)
    confidence = _get(result, "confidence", default="") or ""
    snapshot["confidence"] = str(getattr(confidence, "value", confidence)).lower()
    for key, checked in _checklist_states(result).items():
        snapshot[f"check:{key}"] = checked
    snapshot["requirements"] = [normalise(text) for text in _get(result, "requirements", default=[]) or []]
    snapshot["research_links"] = [_link(link) for link in _get(result, "research_links", default=[]) or []]
    snapshot["kept_blocks"] = _kept_blocks(result)
    return snapshot


def _checklist_states(result: Any) -> dict[str, bool]:
    states = _get(result, "checklist", "checklists", "checklist_states", default={}) or {}
    out: dict[str, bool] = {}
    if isinstance(states, dict):
        for key, value in states.items():
            if isinstance(value, dict):  # {stage: {key: checked}}
                for item_key, checked in value.items():
                    out[f"{_stage(key)}:{item_key}"] = bool(checked)
            elif isinstance(key, tuple):  # {(stage, key): checked}
                out[f"{_stage(key[0])}:{key[1]}"] = bool(value)
            else:  # {"stage:key": checked}
                out[str(key)] = bool(value)
    else:  # a list of items with stage/key/checked
        for item in states:
            out[f"{_stage(_get(item, 'stage'))}:{_get(item, 'key')}"] = bool(_get(item, "checked"))
    return out


def _stage(stage: Any) -> str:
    return str(getattr(stage, "value", stage))


def _link(link: Any) -> list[str]:
    if isinstance(link, (list, tuple)):
        title, url = (list(link) + ["", ""])[:2]
        return [str(title or ""), str(url or "")]
    return [str(_get(link, "title", default="") or ""), str(_get(link, "url", default="") or "")]


def _kept_blocks(result: Any) -> list[Any]:
    blocks = _get(result, "kept_blocks", "unrecognised", "unrecognized", default=[]) or []
    out = []
    for block in blocks:
        if isinstance(block, (str, int, float, bool)) or block is None or isinstance(block, dict):
            out.append(block)
        elif hasattr(block, "__dataclass_fields__"):
            from dataclasses import asdict

            out.append(asdict(block))
        else:
            out.append(str(block))
    return out


def apply_to_proposal(proposal: Proposal, values: dict[str, Any]) -> list[str]:
    """Write snapshot values taken from GitLab onto the proposal. Returns what changed, by label.

    Runs inside the caller's transaction, with the proposal row locked. It does
    not mark the proposal for sync: these values came from GitLab.
    """
    if not values:
        return []
    changed: list[str] = []
    model_fields = {f.name for f in Proposal._meta.get_fields()}
    update_fields: set[str] = set()
    for key, value in values.items():
        if key == TITLE:
            proposal.title = value[:255]
            update_fields.add("title")
            changed.append("Title")
        elif key.startswith("field:"):
            name = key.removeprefix("field:")
            if name in model_fields:
                setattr(proposal, name, value)
                update_fields.add(name)
            else:
                proposal.extra_fields = {**proposal.extra_fields, name: value}
                update_fields.add("extra_fields")
            changed.append(_label(proposal, name))
        elif key == "confidence":
            proposal.confidence = value if value in Proposal.Confidence.values else ""
            update_fields.add("confidence")
            changed.append("Confidence")
        elif key == "kept_blocks":
            proposal.kept_blocks = value
            update_fields.add("kept_blocks")
            changed.append("Sections added on GitLab")
        elif key == "requirements":
            Requirement.objects.filter(proposal=proposal).delete()
            Requirement.objects.bulk_create(
                Requirement(proposal=proposal, text=text[:1000], position=i) for i, text in enumerate(value)
            )
            changed.append("Requirements")
        elif key == "research_links":
            ResearchLink.objects.filter(proposal=proposal).delete()
            ResearchLink.objects.bulk_create(
                ResearchLink(proposal=proposal, title=title[:200], url=url[:500], position=i)
                for i, (title, url) in enumerate(value)
                if url
            )
            changed.append("Research links")
        elif key.startswith("check:"):
            _, stage, item_key = key.split(":", 2)
            ChecklistItem.objects.filter(proposal=proposal, stage=stage, key=item_key).update(
                checked=bool(value), checked_by=None
            )
            changed.append(f"checklist item “{item_key}”")
    if update_fields:
        proposal.save(update_fields=sorted(update_fields))
    Proposal.objects.filter(pk=proposal.pk).update(version=F("version") + 1)
    proposal.refresh_from_db(fields=["version", "updated_at"])
    return changed


def _label(proposal: Proposal, name: str) -> str:
    try:
        return proposal.definition.field(name).label
    except KeyError:
        return NEEDS_FIELDS.get(name, name.replace("_", " ").capitalize())


def label_for_key(proposal: Proposal, key: str) -> str:
    if key == TITLE:
        return "Title"
    if key.startswith("field:"):
        return _label(proposal, key.removeprefix("field:"))
    return key.replace("_", " ").capitalize()


def render_description(proposal: Proposal, overrides: dict[str, Any]) -> str:
    """The issue body for this proposal, with ``overrides`` (GitLab's side of conflicts) in place."""
    from proposals.markdown import render

    if overrides:
        proposal = copy.copy(proposal)
        proposal.extra_fields = dict(proposal.extra_fields)
        model_fields = {f.name for f in Proposal._meta.get_fields()}
        for key, value in overrides.items():
            if key.startswith("field:"):
                name = key.removeprefix("field:")
                if name in model_fields:
                    setattr(proposal, name, value)
                else:
                    proposal.extra_fields[name] = value
            elif key == "confidence":
                proposal.confidence = value
    return render(proposal)


def record(proposal: Proposal, *, kind: str, message: str, data: dict | None = None) -> None:
    Activity.objects.create(proposal=proposal, kind=kind, message=message[:500], data=data or {})
