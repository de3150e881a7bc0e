"""On a fresh install (and on any install where nobody chose) each ORR area is served by the `reviewer` group."""

import django.db.models.deletion
from django.db import migrations, models

import reviews.models

REVIEWERS = "reviewer"  # proposals.access.REVIEWERS, frozen for this migration


def serve_areas_by_reviewers(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    OrrArea = apps.get_model("reviews", "OrrArea")
    reviewers = Group.objects.get_or_create(name=REVIEWERS)[0]
    OrrArea.objects.filter(reviewer_group__isnull=True).update(reviewer_group=reviewers)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("proposals", "0002_seed_personas_and_roles"),
        ("reviews", "0003_orr_workflow"),
    ]

    operations = [
        migrations.AlterField(
            model_name="orrarea",
            name="reviewer_group",
            field=models.ForeignKey(
                blank=True,
                default=reviews.models.default_reviewer_group,
                help_text="Everyone in this group reviews the area; a review may also be assigned to one of them by name.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="auth.group",
            ),
        ),
        migrations.RunPython(serve_areas_by_reviewers, migrations.RunPython.noop),
    ]
