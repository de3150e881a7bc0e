from django.apps import AppConfig


class GitLabSyncConfig(AppConfig):
    name = "proposals.gitlab"
    label = "gitlab_sync"
    verbose_name = "GitLab sync"
    default_auto_field = "django.db.models.BigAutoField"
