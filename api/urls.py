from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import views, views_collab, views_lifecycle, views_reading

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
    path("proposals/<int:pk>/advance/", views_lifecycle.proposal_advance, name="proposal-advance"),
    path("proposals/<int:pk>/approve/", views_lifecycle.proposal_approve, name="proposal-approve"),
    path("proposals/<int:pk>/close/", views_lifecycle.proposal_close, name="proposal-close"),
    path("proposals/<int:pk>/reopen/", views_lifecycle.proposal_reopen, name="proposal-reopen"),
    path(
        "proposals/<int:pk>/requirements/<int:row_id>/",
        views_lifecycle.requirement_change,
        name="requirement-change",
    ),
    path(
        "proposals/<int:pk>/requirements/<int:row_id>/move/",
        views_lifecycle.requirement_move,
        name="requirement-move",
    ),
    path(
        "proposals/<int:pk>/research-links/<int:row_id>/",
        views_lifecycle.research_link_remove,
        name="research-link-remove",
    ),
    path(
        "proposals/<int:pk>/research-links/<int:row_id>/move/",
        views_lifecycle.research_link_move,
        name="research-link-move",
    ),
    path("proposals/<int:pk>/template/", views_lifecycle.template_move, name="template-move"),
    path("proposals/<int:pk>/conflicts/", views_lifecycle.conflict_list, name="conflict-list"),
    path(
        "proposals/<int:pk>/conflicts/<int:conflict_id>/resolve/",
        views_lifecycle.conflict_resolve,
        name="conflict-resolve",
    ),
    path("proposals/<int:pk>/owner/", views_lifecycle.owner_transfer, name="owner-transfer"),
    path("proposals/<int:pk>/co-authors/", views_lifecycle.co_authors_set, name="co-authors"),
    path("proposals/<int:pk>/watch/", views_lifecycle.watch, name="watch"),
    path("proposals/<int:pk>/comments/", views_collab.comments, name="comments"),
    path("proposals/<int:pk>/comments/<int:comment_id>/", views_collab.comment_change, name="comment-change"),
    path("proposals/<int:pk>/comments/<int:comment_id>/replies/", views_collab.comment_reply, name="comment-reply"),
    path("proposals/<int:pk>/linked-issues/", views_collab.linked_issues, name="linked-issues"),
    path(
        "proposals/<int:pk>/linked-issues/<int:link_id>/",
        views_collab.linked_issue_remove,
        name="linked-issue-remove",
    ),
    path("proposals/<int:pk>/history/", views_collab.proposal_history, name="history"),
    path("proposals/<int:pk>/designs/", views_reading.designs, name="designs"),
    path("proposals/<int:pk>/timeline/", views_reading.proposal_timeline, name="timeline"),
    path(
        "proposals/<int:pk>/changes-since-last-look/",
        views_reading.changes_since_last_look,
        name="changes-since-last-look",
    ),
    path("proposals/<int:pk>/seen/", views_reading.proposal_seen, name="seen"),
    path("proposals/import/", views_lifecycle.import_create, name="import"),
    path("proposals/import/preview/", views_lifecycle.import_preview, name="import-preview"),
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
