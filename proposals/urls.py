from django.urls import path, re_path

from proposals import views, views_history, views_import, views_people, views_search, views_timeline

app_name = "proposals"

urlpatterns = [
    path("", views.proposal_list, name="list"),
    path("new/", views.proposal_create, name="create"),
    path("import/", views_import.proposal_import, name="import"),
    path("<int:pk>/import-report/", views_import.import_report, name="import-report"),
    path("<int:pk>/", views.proposal_detail, name="detail"),
    path("<int:pk>/history/", views_history.proposal_history, name="history"),
    path("<int:pk>/history.csv", views_history.proposal_history_csv, name="history-csv"),
    path("<int:pk>/timeline/", views_timeline.proposal_timeline, name="timeline"),
    path("<int:pk>/timeline.csv", views_timeline.proposal_timeline_csv, name="timeline-csv"),
    path("search/", views_search.search_page, name="search"),
    path("saved-views/", views_search.saved_view_save, name="saved-view-save"),
    path("saved-views/<int:view_id>/delete/", views_search.saved_view_delete, name="saved-view-delete"),
    path("<int:pk>/edit/", views.proposal_edit, name="edit"),
    path("<int:pk>/live/", views.proposal_live, name="live"),
    path("<int:pk>/preview/", views.proposal_preview, name="preview"),
    path("<int:pk>/template/", views.template_change, name="template-change"),
    path("<int:pk>/sections/<slug:section_key>/", views.section_save, name="section-save"),
    path("<int:pk>/checklist/", views.checklist_panel, name="checklist"),
    path("<int:pk>/checklist/<int:item_id>/", views.checklist_toggle, name="checklist-toggle"),
    path("<int:pk>/requirements/", views.requirement_add, name="requirement-add"),
    path("<int:pk>/requirements/<int:row_id>/edit/", views.requirement_edit, name="requirement-edit"),
    re_path(
        r"^(?P<pk>\d+)/requirements/(?P<row_id>\d+)/(?P<action>up|down|remove)/$",
        views.ordered_row_change,
        {"kind": "requirements"},
        name="requirement-change",
    ),
    path("<int:pk>/research/", views.research_link_add, name="research-add"),
    path("<int:pk>/co-authors/", views_people.co_authors_change, name="co-authors"),
    path("<int:pk>/owner/", views_people.owner_change, name="owner"),
    re_path(
        r"^(?P<pk>\d+)/research/(?P<row_id>\d+)/(?P<action>up|down|remove)/$",
        views.ordered_row_change,
        {"kind": "research"},
        name="research-change",
    ),
]
