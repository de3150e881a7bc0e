from django.core.management.base import BaseCommand

from proposals.search import search_reindex_all


class Command(BaseCommand):
    help = "Rebuild the search index of every proposal (run once after upgrading to a release with search)."

    def handle(self, *args, **options):
        count = search_reindex_all()
        self.stdout.write(f"Indexed {count} proposal{'s' if count != 1 else ''}.")
