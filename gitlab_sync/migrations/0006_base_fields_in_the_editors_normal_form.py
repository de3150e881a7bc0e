"""The agreed base of every synced proposal in the Markdown normal form that now also writes one blank
line between two blocks of an answer and drops needless backslash escapes (GitLab's rich-text editor).

Both sides are compared in that form; a base left in the old one would make the first edit on GitLab of
such an answer look like a change on both sides (a conflict) instead of GitLab's change.
"""

from django.db import migrations

from proposals.markdown import canonical_text


def _in_normal_form(values: dict) -> dict:
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


def base_fields_in_normal_form(apps, schema_editor):
    SyncState = apps.get_model("gitlab_sync", "SyncState")
    changed = []
    for state in SyncState.objects.exclude(base_fields={}).only("pk", "base_fields").iterator(chunk_size=500):
        values = _in_normal_form(state.base_fields or {})
        if values != state.base_fields:
            state.base_fields = values
            changed.append(state)
        if len(changed) >= 500:
            SyncState.objects.bulk_update(changed, ["base_fields"])
            changed = []
    if changed:
        SyncState.objects.bulk_update(changed, ["base_fields"])


class Migration(migrations.Migration):
    dependencies = [("gitlab_sync", "0005_design_updated_at")]

    operations = [migrations.RunPython(base_fields_in_normal_form, migrations.RunPython.noop, elidable=True)]
