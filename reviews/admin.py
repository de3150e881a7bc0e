from django.contrib import admin

from reviews.models import OrrArea, Review


@admin.register(OrrArea)
class OrrAreaAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "reviewer_group", "service_level_days"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["proposal", "area", "status", "reviewer", "updated_at"]
    list_filter = ["status", "area"]
    list_select_related = ["proposal", "area", "reviewer"]
