from django.db import migrations, models

# The dashboard's label filter asks "labels @> '["x"]'"; a GIN index answers that on PostgreSQL.
# Other databases have no GIN index and no such query, so the index is PostgreSQL-only.
LABELS_INDEX = "proposal_labels_gin"


def create_labels_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {LABELS_INDEX} ON proposals_proposal USING gin (labels jsonb_path_ops)"
        )


def drop_labels_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {LABELS_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("proposals", "0002_seed_personas_and_roles")]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(fields=["proposal", "-created_at"], name="activity_proposal_recent"),
        ),
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(fields=["kind", "created_at"], name="activity_kind_created"),
        ),
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(fields=["stage", "state"], name="proposal_stage_state"),
        ),
        migrations.AddIndex(
            model_name="proposal",
            index=models.Index(fields=["-updated_at", "-id"], name="proposal_recent"),
        ),
        migrations.RunPython(create_labels_index, drop_labels_index),
    ]
