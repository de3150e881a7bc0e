"""Template context shared by every page."""

from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict:
    """The Content-Security-Policy nonce under the name `{% htmx_script %}` reads, so htmx's tags carry it.

    django-csp's own processor calls it `CSP_NONCE`; django-htmx looks for `csp_nonce`.
    """
    return {"csp_nonce": getattr(request, "csp_nonce", None)}
