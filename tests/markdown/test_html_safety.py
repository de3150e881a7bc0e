"""The preview HTML of any user Markdown holds no script, no event handler and no script URL."""

from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proposals import markdown
from proposals.markdown_html import to_html

ATTACKS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.test/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "[x](javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    '<iframe src="https://x.test"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    '<input type="checkbox" onclick="alert(1)">',
    '<form action="https://x.test"><button>go</button></form>',
    "<object data=x.swf></object>",
    "<!--><script>alert(1)</script>-->",
    "`<script>`",
    "| a | <script>alert(1)</script> |\n| - | - |\n| b | c |",
    "- [ ] <img src=x onerror=alert(1)>",
]
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "style", "form", "svg", "math", "base", "link", "meta", "img"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in {"style", "srcdoc", "formaction"}:
                self.problems.append(f"{tag}[{name}]")
            cleaned = "".join(ch for ch in (value or "") if ch.isprintable() and not ch.isspace()).lower()
            if name in {"href", "src", "action", "data"} and cleaned.startswith(SCRIPT_SCHEMES):
                self.problems.append(f"{tag}[{name}={value}]")


def problems(html: str) -> list[str]:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector.problems


def test_every_known_attack_is_defused():
    for attack in ATTACKS:
        assert problems(to_html(attack)) == [], attack


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(ATTACKS), st.text(max_size=20)), max_size=12).map("\n".join))
def test_no_mix_of_markdown_and_html_gets_a_script_through(text):
    assert problems(to_html(text)) == []
    # The same text as a proposal's answer, inside the whole issue body, is just as inert.
    body = markdown.render(markdown.ProposalContent(fields={"user_problem": text}))
    assert problems(to_html(body)) == []
