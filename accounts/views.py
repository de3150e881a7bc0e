from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from accounts.gitlab import PROVIDER


@require_http_methods(["GET", "POST"])
@login_required
def api_token(request: HttpRequest) -> HttpResponse:
    """The person's API token: shown here, made or replaced on request (the old one stops working at once)."""
    if request.method == "POST":
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            Token.objects.create(user=request.user)
        messages.success(request, "New API token made. The previous one no longer works.")
        return redirect("accounts:api-token")
    context = {
        "token": Token.objects.filter(user=request.user).first(),
        "gitlab_account": request.user.socialaccount_set.filter(provider=PROVIDER).first(),
    }
    return render(request, "accounts/api_token.html", context)
