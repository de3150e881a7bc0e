from django.apps import AppConfig


class GitLabSyncConfig(AppConfig):
    name = "gitlab_sync"
    label = "gitlab_sync"
    verbose_name = "GitLab sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the tasks, which the app enqueues by name, in every process (eager mode in tests too).
        import gitlab_sync.tasks  # noqa: F401
        from gitlab_sync.inbound import comment_search_parts
        from gitlab_sync.outbox import on_proposal_changed
        from proposals import search
        from proposals.signals import proposal_changed

        # The outbox row is written in the transaction of the change it records.
        proposal_changed.connect(on_proposal_changed, dispatch_uid="gitlab_sync.outbox")
        # The comments are found by the proposal search (internal notes never: not every reader sees them).
        search.register_source(comment_search_parts)
