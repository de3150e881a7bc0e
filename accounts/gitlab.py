"""Who a GitLab user is in Stagegate.

The link is the SocialAccount row django-allauth keeps for everyone who signed in
with GitLab: its ``uid`` is the GitLab user id. The sync calls these to attribute
GitLab comments, decisions and edits to people.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

PROVIDER = "gitlab"


def user_for_gitlab_id(gitlab_user_id: int | str | None) -> AbstractBaseUser | None:
    """The active Stagegate user who signed in with this GitLab account, or None."""
    if gitlab_user_id in (None, ""):
        return None
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            socialaccount__provider=PROVIDER,
            socialaccount__uid=str(gitlab_user_id),
        )
        .first()
    )


def gitlab_id_for_user(user) -> int | None:
    """The GitLab user id of a Stagegate user, when they have signed in with GitLab."""
    if user is None or not user.is_authenticated:
        return None
    uid = SocialAccount.objects.filter(user=user, provider=PROVIDER).values_list("uid", flat=True).first()
    return int(uid) if uid and uid.isdigit() else None
