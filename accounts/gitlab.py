"""Who a GitLab user is in Stagegate.

The link is the SocialAccount row django-allauth keeps for everyone who signed in
with GitLab: its ``uid`` is the GitLab user id. The sync calls these to attribute
GitLab comments, decisions and edits to people.
"""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount, SocialToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

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


def gitlab_write_token_for(user) -> str | None:
    """The person's own GitLab token, when Stagegate keeps one that may write (the ``api`` scope).

    Sign-in asks for ``read_user`` (and ``read_api``) and keeps no token (SOCIALACCOUNT_STORE_TOKENS
    off), so by default there is none and Stagegate writes as its bot, signing with the person's name.
    """
    scope = settings.SOCIALACCOUNT_PROVIDERS.get(PROVIDER, {}).get("SCOPE", [])
    if user is None or not settings.SOCIALACCOUNT_STORE_TOKENS or "api" not in scope:
        return None
    token = (
        SocialToken.objects.filter(account__user=user, account__provider=PROVIDER)
        .order_by("-pk")
        .values_list("token", "expires_at")
        .first()
    )
    if token is None or (token[1] is not None and token[1] <= timezone.now()):
        return None
    return token[0]
