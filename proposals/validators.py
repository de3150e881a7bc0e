"""What may enter a proposal: the checks every path shares (form, API, import, template move, GitLab).

Each check returns why a value is refused, in words a person can act on, or None. Nothing is
truncated silently: a value over its limit is refused with the limit named.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from proposals.models import TEXT_MAX_LENGTH, Requirement, ResearchLink

# Lengths of what is stored one per row (the columns' own limits).
REQUIREMENT_MAX_LENGTH = Requirement._meta.get_field("text").max_length
LINK_URL_MAX_LENGTH = ResearchLink._meta.get_field("url").max_length
LINK_TITLE_MAX_LENGTH = ResearchLink._meta.get_field("title").max_length
LINK_SCHEMES = ("http", "https")


class ContentInvalid(ValidationError):
    """Content that Stagegate does not store; `errors` says what is wrong, by the part's name."""

    def __init__(self, errors: dict[str, str]):
        super().__init__({label: [message] for label, message in errors.items()})
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{label} {message}" for label, message in self.errors.items())


def _control_characters(text: str, *, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


# Bidirectional overrides and isolates make a title read differently from what it holds.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def one_line_error(text: str, *, max_length: int) -> str | None:
    """Why a one-line value (a title, a link's title, a requirement) is refused, or None."""
    if _control_characters(text) or not BIDI_CONTROLS.isdisjoint(text):
        return "must be one line without control characters"
    if len(text) > max_length:
        return f"is {len(text):,} characters long; the limit is {max_length:,}"
    return None


def text_error(text: str, *, max_length: int = TEXT_MAX_LENGTH) -> str | None:
    """Why a multi-line text is refused, or None: line breaks and tabs are fine, other control characters not."""
    if _control_characters(text, allowed="\r\n\t"):
        return "contains control characters"
    if len(text) > max_length:
        return f"is {len(text):,} characters long; the limit is {max_length:,}"
    return None


def link_error(url: str) -> str | None:
    """Why a link is refused, or None: only http(s) addresses reach the database."""
    problem = one_line_error(url, max_length=LINK_URL_MAX_LENGTH)
    if problem:
        return problem
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "is not a web address"
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return "must be an http or https address"
    return None
