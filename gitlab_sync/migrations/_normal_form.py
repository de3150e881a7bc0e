"""What the migrations that bring stored sync bases to the Markdown normal form share (a module the migration
loader skips: its name starts with an underscore).

The normal form is read from the live code (`proposals.markdown.canonical_text`): each such migration brings
the bases to the form of the code that runs it. Both sides of a merge are compared in that form; a base left in
an older one would make the first GitLab edit of such an answer look like a change on both sides (a conflict).
"""

from proposals.markdown import canonical_text


def values_in_normal_form(values: dict) -> dict:
    out = dict(values)
    for key, value in values.items():
        if isinstance(value, str) and (key.startswith("field:") or key.startswith("orr:")):
            out[key] = canonical_text(value)
        elif key == "kept_blocks" and isinstance(value, list):
            out[key] = [
                [block[0], canonical_text(block[1], kept=True)]
                if isinstance(block, list) and len(block) == 2 and isinstance(block[1], str)
                else block
                for block in value
            ]
    return out


def sync_bases_in_normal_form(apps, schema_editor):
    SyncState = apps.get_model("gitlab_sync", "SyncState")
    changed = []
    for state in SyncState.objects.exclude(base_fields={}).only("pk", "base_fields").iterator(chunk_size=500):
        values = values_in_normal_form(state.base_fields or {})
        if values != state.base_fields:
            state.base_fields = values
            changed.append(state)
        if len(changed) >= 500:
            SyncState.objects.bulk_update(changed, ["base_fields"])
            changed = []
    if changed:
        SyncState.objects.bulk_update(changed, ["base_fields"])
