"""``{% load markdown %}{{ text|gitlab_markdown }}``: Markdown shown as GitLab would, sanitised."""

from django import template
from django.utils.safestring import mark_safe

from proposals.markdown_html import to_html

register = template.Library()


@register.filter
def gitlab_markdown(text: str) -> str:
    return mark_safe(to_html(text or ""))  # to_html sanitises with nh3: only the allowed tags and schemes remain
