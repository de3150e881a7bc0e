"""GitLab-flavoured Markdown to HTML for the issue preview, sanitised so user text cannot run anything."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

# What the preview may show: GitLab's usual blocks, task-list checkboxes, tables. No images: a Markdown
# image pointing elsewhere would make every reader's browser fetch it.
# Each task-list checkbox sits inside a <label> with its item's text, so screen readers announce what it is.
ALLOWED_TAGS = (nh3.ALLOWED_TAGS - {"img", "map", "area"}) | {"input", "label"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "input": {"type", "checked", "disabled"},
    "li": {"class"},
    "ul": {"class"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@cache
def _parser() -> MarkdownIt:
    # GitLab renders inline HTML from the description (then sanitises it); so does the preview.
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).use(tasklists_plugin, label=True)


def to_html(markdown: str, *, heading_offset: int = 0) -> str:
    """Render and sanitise; `heading_offset` demotes the issue's headings below the page's own."""
    parser = _parser()
    tokens = parser.parse(markdown)
    if heading_offset:
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(6, int(token.tag[1]) + heading_offset)}"
    html = parser.renderer.render(tokens, parser.options, {})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
