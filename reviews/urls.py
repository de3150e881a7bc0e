from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.review_queue, name="queue"),
    path("<int:pk>/", views.review_detail, name="detail"),
    path("setup/", views.orr_setup, name="setup"),
    path("setup/<slug:area_key>/", views.orr_setup, name="setup-area"),
    path("<int:pk>/decide/", views.review_decide, name="decide"),
    path("<int:pk>/take/", views.review_hold, {"take": True}, name="take"),
    path("<int:pk>/hand-back/", views.review_hold, {"take": False}, name="hand-back"),
    path("<int:pk>/comments/", views.review_comment, name="comment"),
    path("<int:pk>/resubmit/", views.review_resubmit, name="resubmit"),
    path("answers/<int:proposal_id>/", views.answers_page, name="answers"),
    path("answer/<int:proposal_id>/<slug:area_key>/", views.answer_save, name="answer"),
    path("proposal/<int:proposal_id>/gates/", views.gates_panel, name="gates"),
    path("proposal/<int:proposal_id>/watch/", views.proposal_watch, name="watch"),
    path("notifications/", views.notification_inbox, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("proposal/<int:proposal_id>/<slug:transition>/", views.proposal_transition, name="transition"),
]
