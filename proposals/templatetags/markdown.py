"""``{% load markdown %}{{ text|gitlab_markdown }}``: Markdown shown as GitLab would, sanitised."""

from django import template
from django.utils.safestring import mark_safe

from proposals.markdown_html import to_html

register = template.Library()


@register.filter
def gitlab_markdown(text: str, heading_offset: int = 0) -> str:
    """``{{ text|gitlab_markdown:2 }}`` renders the text's h1 as h3, below the page's own headings."""
    return mark_safe(
        to_html(text or "", heading_offset=int(heading_offset))
    )  # to_html sanitises with nh3: only the allowed tags and schemes remain
