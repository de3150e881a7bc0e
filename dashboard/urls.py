from django.urls import path

from dashboard import views as views_dashboard

app_name = "dashboard"

urlpatterns = [
    path("", views_dashboard.dashboard_index, name="index"),
    path("proposals.csv", views_dashboard.dashboard_csv, name="csv"),
]
