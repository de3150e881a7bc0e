"""Errors of the services, answered as the API's own: content Stagegate refuses is a 400 naming the part."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from proposals.validators import ContentInvalid


def exception_handler(exc, context):
    if isinstance(exc, ContentInvalid):
        exc = ValidationError({label: [message] for label, message in exc.errors.items()})
    return drf_exception_handler(exc, context)
