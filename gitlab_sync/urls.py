from django.urls import path

from gitlab_sync import collab_views, views, webhooks

app_name = "gitlab_sync"

urlpatterns = [
    path("webhook/", webhooks.gitlab_webhook, name="webhook"),
    path("proposals/<int:pk>/sync/", views.sync_badge, name="badge"),
    path("proposals/<int:pk>/sync/retry/", views.retry_now, name="retry"),
    path("proposals/<int:pk>/conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("proposals/<int:pk>/discussion/", collab_views.discussion_view, name="discussion"),
    path("proposals/<int:pk>/discussion/comment/", collab_views.comment_create, name="comment"),
    path("comments/<int:pk>/", collab_views.comment_change, name="comment-change"),
    path("proposals/<int:pk>/links/", collab_views.link_create, name="link-create"),
    path("proposals/<int:pk>/links/<int:link_pk>/remove/", collab_views.link_delete, name="link-delete"),
]
