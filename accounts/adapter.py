"""How django-allauth signs people in to Stagegate.

Local accounts are made by admins (Django admin or ``createsuperuser``); nobody signs
themselves up with a password. Signing in with GitLab creates the account on first
use and puts it in the groups named by ``GITLAB_SIGN_IN_GROUPS``.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.contrib.auth.models import Group


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return True

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        names = getattr(settings, "GITLAB_SIGN_IN_GROUPS", [])
        if names:
            user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in names))
        return user
