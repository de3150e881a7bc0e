from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("proposals/", views.proposal_list, name="proposal-list"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal-detail"),
    path("proposals/<int:pk>/sections/<slug:section_key>/", views.section_save, name="section-save"),
    path("proposals/<int:pk>/checklist/<int:item_id>/", views.checklist_toggle, name="checklist-toggle"),
    path("proposals/<int:pk>/requirements/", views.requirement_add, name="requirement-add"),
    path("proposals/<int:pk>/research-links/", views.research_link_add, name="research-link-add"),
    path("proposals/<int:pk>/submit/", views.proposal_submit, name="proposal-submit"),
    path("reviews/", views.review_list, name="review-list"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("reviews/<int:pk>/decisions/", views.review_decide, name="review-decide"),
    path("reviews/<int:pk>/take/", views.review_take, name="review-take"),
    path("reviews/<int:pk>/hand-back/", views.review_hand_back, name="review-hand-back"),
    path("reviews/<int:pk>/answer/", views.review_answer, name="review-answer"),
    path("dashboard/", views.dashboard_figures, name="dashboard"),
    # Any other path under /api/, control characters and line breaks included, is a JSON 404.
    re_path(r"^(?P<path>(?s:.*))\Z", views.not_found),
]
