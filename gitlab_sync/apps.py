from django.apps import AppConfig


class GitLabSyncConfig(AppConfig):
    name = "gitlab_sync"
    label = "gitlab_sync"
    verbose_name = "GitLab sync"
    default_auto_field = "django.db.models.BigAutoField"
