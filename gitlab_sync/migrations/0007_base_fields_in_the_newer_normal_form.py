"""The agreed base of every synced proposal in the normal form that now also reads the rich-text editor's
layout of sections added on GitLab (a blank line between their blocks), ends a paragraph at a table with a
leading pipe, drops needless escapes beside code spans and inline HTML, and reads the editor's escapes on top
of Stagegate's own line-start escape (``\\- \\[x\\]`` is ``\\- [x]``)."""

from django.db import migrations

from gitlab_sync.migrations._normal_form import sync_bases_in_normal_form


class Migration(migrations.Migration):
    dependencies = [("gitlab_sync", "0006_base_fields_in_the_editors_normal_form")]

    operations = [migrations.RunPython(sync_bases_in_normal_form, migrations.RunPython.noop, elidable=True)]
