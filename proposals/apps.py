from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Proposals"

    def ready(self) -> None:
        from proposals import search
        from proposals.signals import proposal_changed

        # The search index follows every write, in the writer's transaction.
        proposal_changed.connect(search.on_proposal_changed, dispatch_uid="proposals.search_index")
