"""The bell: how many in-app notifications the signed-in person has not read."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from reviews.models import InAppNotification


def unread_notifications(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Counted only when a page shows the bell (an htmx fragment does not), and once per page.
    return {"unread_notifications": SimpleLazyObject(lambda: InAppNotification.objects.for_user(user).unread().count())}
