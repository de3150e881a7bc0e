"""How django-allauth signs people in to Stagegate.

Local accounts are made by admins (Django admin or ``createsuperuser``); nobody signs
themselves up with a password. Signing in with GitLab creates the account on first
use and puts it in the groups named by ``GITLAB_SIGN_IN_GROUPS``. With ``GITLAB_SIGN_IN_MEMBERS_OF`` set,
only members of one of those GitLab groups or projects get in; everyone else gets a clear refusal.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.models import Group
from django.shortcuts import render

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def pre_social_login(self, request, sociallogin) -> None:
        """Every GitLab sign-in (first or not) is refused unless the person is a member of a configured
        GitLab group or project; checked with their own token, so GitLab decides what they belong to."""
        required = getattr(settings, "GITLAB_SIGN_IN_MEMBERS_OF", [])
        if not required or sociallogin.account.provider != "gitlab":
            return
        if not is_gitlab_member(sociallogin, required):
            names = ", ".join(entry.split(":", 1)[-1] for entry in required)
            message = f"Signing in with GitLab is for members of {names} on GitLab. Ask one of its owners to add you."
            response = render(request, "proposals/refusal.html", {"status": 403, "message": message}, status=403)
            raise ImmediateHttpResponse(response)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        names = getattr(settings, "GITLAB_SIGN_IN_GROUPS", [])
        if names:
            user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in names))
        return user


def is_gitlab_member(sociallogin, required: list[str]) -> bool:
    """Is the signing-in GitLab user a member (direct or inherited) of one of `required`
    ("group:path" or "project:path")? Any failure to find out counts as no."""
    base = settings.SOCIALACCOUNT_PROVIDERS["gitlab"]["GITLAB_URL"].rstrip("/")
    token = getattr(sociallogin.token, "token", "")
    headers = {"Authorization": f"Bearer {token}"}
    for entry in required:
        kind, _, path = entry.partition(":")
        collection = {"group": "groups", "project": "projects"}.get(kind.strip())
        if collection is None or not path.strip():
            log.error("GITLAB_SIGN_IN_MEMBERS_OF entry %r is not group:<path> or project:<path>", entry)
            continue
        url = f"{base}/api/v4/{collection}/{quote(path.strip(), safe='')}/members/all/{int(sociallogin.account.uid)}"
        try:
            response = requests.get(url, headers=headers, timeout=settings.GITLAB_TIMEOUT)
        except requests.RequestException:
            log.warning("Could not ask GitLab whether user %s belongs to %s", sociallogin.account.uid, entry)
            continue
        if response.status_code == 200:
            return True
    return False
