"""manage.py import_gitlab_issues --owner <username>: turn existing labelled issues into proposals."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gitlab_sync import client, importer


class Command(BaseCommand):
    help = (
        "Import the configured project's issues carrying a proposal label (any template version's: "
        "wg-ai-integration, AI Feature Proposal) as proposals."
    )

    def add_arguments(self, parser):
        parser.add_argument("--owner", help="username that owns the imported proposals (default: first superuser)")
        parser.add_argument("--label", help="import issues with this label instead of the templates' proposal labels")

    def handle(self, *args, owner=None, label=None, **options):
        User = get_user_model()  # noqa: N806
        if owner:
            user = User.objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user named {owner!r}.")
        else:
            user = User.objects.filter(is_superuser=True).order_by("pk").first()
            if user is None:
                raise CommandError("No superuser to own the proposals; pass --owner.")
        try:
            report = importer.import_issues(owner=user, label=label)
        except client.GitLabError as exc:
            raise CommandError(exc.message) from exc
        for line in report.lines():
            self.stdout.write(line)
