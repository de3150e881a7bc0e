"""Only the sync's URLs, so its view tests do not depend on the rest of the URLconf."""

from django.urls import include, path

urlpatterns = [path("gitlab/", include("gitlab_sync.urls"))]
