from django.urls import path

from gitlab_sync import views, webhooks

app_name = "gitlab_sync"

urlpatterns = [
    path("webhook/", webhooks.gitlab_webhook, name="webhook"),
    path("proposals/<int:pk>/sync/", views.sync_badge, name="badge"),
    path("proposals/<int:pk>/sync/retry/", views.retry_now, name="retry"),
    path("proposals/<int:pk>/conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/resolve/", views.resolve, name="resolve"),
]
