"""``{% load markdown %}{{ text|gitlab_markdown }}``: Markdown shown as GitLab would, sanitised."""

from functools import lru_cache

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


@register.filter
def gitlab_markdown_inline(text: str) -> str:
    """``{{ label|gitlab_markdown_inline }}``: one line of Markdown (links, emphasis, code) without its paragraph,
    for help texts and checklist labels that sit inside a label or a line of their own."""
    return mark_safe(_inline_html(text or ""))  # to_html sanitises with nh3


# The texts are the template's own help texts and checklist labels, the same on every edit page (dozens per page),
# so each is rendered once per process; the bound keeps odd callers from growing it.
@lru_cache(maxsize=2048)
def _inline_html(text: str) -> str:
    html = to_html(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
