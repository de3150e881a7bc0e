from django.db import migrations

from proposals.template import ORR_AREAS_2023


def seed(apps, schema_editor):
    OrrArea = apps.get_model("reviews", "OrrArea")
    for area in ORR_AREAS_2023:
        OrrArea.objects.get_or_create(
            key=area.key, defaults={"number": area.number, "title": area.title, "guidance": area.guidance}
        )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
