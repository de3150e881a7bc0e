from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="proposals:list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("proposals/", include("proposals.urls")),
    path("reviews/", include("reviews.urls")),
    path("gitlab/", include("gitlab_sync.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/", include("api.urls")),
]
