from django.db import migrations

# GitLab's product personas (handbook: /handbook/product/personas/).
PERSONAS = [
    ("Parker", "Product Manager"),
    ("Delaney", "Development Team Lead"),
    ("Presley", "Product Designer"),
    ("Sasha", "Software Developer"),
    ("Priyanka", "Platform Engineer"),
    ("Sidney", "Systems Administrator"),
    ("Rachel", "Release Manager"),
    ("Simone", "Software Engineer in Test"),
    ("Allison", "Application Ops"),
    ("Ingrid", "Infrastructure Operator"),
    ("Dakota", "Application Development Director"),
    ("Dana", "Data Analyst"),
    ("Eddie", "Content Editor"),
    ("Amy", "Application Security Engineer"),
    ("Isaac", "Infrastructure Security Engineer"),
    ("Alex", "Security Operations Engineer"),
    ("Cameron", "Compliance Manager"),
]
ROLE_GROUPS = ["author", "reviewer", "working group", "admin"]
HANDBOOK = "https://handbook.gitlab.com/handbook/product/personas/"


def seed(apps, schema_editor):
    Persona = apps.get_model("proposals", "Persona")
    Group = apps.get_model("auth", "Group")
    for name, role in PERSONAS:
        slug = f"{name.lower()}-{role.lower().replace(' ', '-')}"
        Persona.objects.get_or_create(name=name, defaults={"role": role, "handbook_url": f"{HANDBOOK}#{slug}"})
    for group in ROLE_GROUPS:
        Group.objects.get_or_create(name=group)


class Migration(migrations.Migration):
    dependencies = [("proposals", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
