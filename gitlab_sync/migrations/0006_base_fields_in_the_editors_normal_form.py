"""The agreed base of every synced proposal in the Markdown normal form that now also writes one blank
line between two blocks of an answer and drops needless backslash escapes (GitLab's rich-text editor)."""

from django.db import migrations

from gitlab_sync.migrations._normal_form import sync_bases_in_normal_form


class Migration(migrations.Migration):
    dependencies = [("gitlab_sync", "0005_design_updated_at")]

    operations = [migrations.RunPython(sync_bases_in_normal_form, migrations.RunPython.noop, elidable=True)]
