from django.apps import AppConfig


class GitLabSyncConfig(AppConfig):
    name = "gitlab_sync"
    label = "gitlab_sync"
    verbose_name = "GitLab sync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the tasks, which the app enqueues by name, in every process (eager mode in tests too).
        import gitlab_sync.tasks  # noqa: F401
        from gitlab_sync.inbound import comment_search_parts, comment_search_parts_many
        from gitlab_sync.linking import on_proposal_created
        from gitlab_sync.outbox import on_proposal_changed
        from proposals import search
        from proposals.signals import proposal_changed, proposal_created

        # The outbox row is written in the transaction of the change it records.
        proposal_changed.connect(on_proposal_changed, dispatch_uid="gitlab_sync.outbox")
        # A new proposal may ask to be linked to an existing issue rather than get a new one.
        proposal_created.connect(on_proposal_created, dispatch_uid="gitlab_sync.link_existing_issue")

        # "Link related issues" and "add relevant designs" are ticked from what GitLab shows, never from the
        # proposal's content; a new proposal's issue has not been read yet.
        from gitlab_sync import designs, links
        from gitlab_sync.connection import sync_enabled
        from proposals import checklists

        checklists.register_verifier(links.VERIFIER, links.has_linked_issues, available=sync_enabled)
        checklists.register_verifier(designs.VERIFIER, designs.has_designs, available=sync_enabled)
        # The issue's comments are found by the proposal search (internal notes never: not every reader sees them).
        search.register_source(comment_search_parts, many=comment_search_parts_many)
