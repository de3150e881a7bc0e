"""manage.py reconcile_gitlab: apply now what GitLab's webhooks missed (the scheduled reconcile, on demand)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gitlab_sync import client, inbound


class Command(BaseCommand):
    help = "Read the proposals' issues changed on GitLab since the last reconcile and apply what webhooks missed."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="walk every issue, not only those changed lately")

    def handle(self, *args, full=False, **options):
        if full:
            inbound.forget_watermark()
        try:
            stats = inbound.reconcile()
        except client.GitLabError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Reconciled: {stats['seen']} issues read, {stats['synced']} synced, "
            f"{stats['skipped']} busy (left to the next run)."
        )
