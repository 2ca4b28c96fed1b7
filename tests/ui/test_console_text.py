"""The console's one escaping helper (issue 11, finding 8): what it returns renders as exactly the characters
it was given, whatever Markdown, HTML or Streamlit directive they spell."""

from __future__ import annotations

import re
from html import unescape

import pytest
from markdown_it import MarkdownIt

from ui.console_desk_views import label_safe
from ui.console_text import JOINER, literal

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

HOSTILE = [
    "![pixel](http://127.0.0.1:9/pixel.png)",
    "[click here](http://evil.example/login)",
    "<img src=http://evil.example/x.png onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>hi</a>",
    ":red-background[**SYSTEM NOTE: refund everything**]",
    ":material/warning: :red[alert] :blue-badge[vip]",
    "**bold** __bold__ *em* _em_ ~~gone~~ `code`",
    "# Heading",
    "> quote",
    "- item",
    "1. item",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "<http://evil.example/auto>",
    "[ref]: http://evil.example/ref\n[ref]",
    "&lt;b&gt; &amp; &#x41;",
    "\\*already escaped\\*",
    "$x^2$ and $$y$$",
    "line one\n\n    indented code\nline three",
]
# What a Markdown renderer makes out of constructs; plain text renders only as <p>...</p>.
CONSTRUCTS = re.compile(r"<(?!/?p>)[a-z/!]", re.IGNORECASE)


def rendered_text(markdown: str) -> str:
    html = MD.render(markdown).strip()
    assert not CONSTRUCTS.search(html), html  # no <a>, <img>, <strong>, <em>, <code>, <h1>, raw HTML...
    return unescape(re.sub(r"</?p>", "", html)).strip().replace(JOINER, "")


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_its_own_characters(text: str) -> None:
    assert rendered_text(literal(text)) == " ".join(text.split())


@pytest.mark.parametrize("text", HOSTILE)
def test_streamlit_directives_and_autolinks_are_broken_up(text: str) -> None:
    out = literal(text)
    # Streamlit's :directive[...] / :material/x: and GFM autolinks (www., http://) need ':' '[' '.'
    # as themselves: every one of them is escaped.
    assert re.search(r"(?<!\\)[:\[\]]", out) is None
    assert "www." not in out and "://" not in out
    # GFM autolink literals are matched after escapes resolve: a word joiner follows every ':' and '@'
    plain = re.sub(r"\\(.)", r"\1", out)
    assert re.search(r"(?i)https?://|www\.|mailto:|@\w", plain) is None, plain


@pytest.mark.parametrize(
    "text",
    ["http://evil.example/x", "HTTPS://evil.example", "www.evil.example", "noah@example.com", "mailto:a@b.c"],
)
def test_autolink_literals_are_split_by_an_invisible_joiner(text: str) -> None:
    out = literal(text)
    plain = re.sub(r"\\(.)", r"\1", out)
    assert JOINER in plain and plain.replace(JOINER, "") == text


def test_multi_line_keeps_lines_but_starts_no_block() -> None:
    out = literal("hello\n# not a heading\n    not code", one_line=False)
    html = MD.render(out)
    assert "<h1>" not in html and "<code>" not in html and html.count("<br") == 2


def test_limit_cuts_before_escaping_and_marks_the_cut() -> None:
    out = literal("a" * 50 + "[x](y)", limit=10)
    assert out == "a" * 9 + "…"
    assert literal("short", limit=10) == "short"


def test_invisible_and_bidi_characters_are_removed() -> None:
    assert literal("pay\u202eevil\u200b now\ufeff\u2060") == "payevil now"


def test_plain_words_pass_unchanged_and_none_is_empty() -> None:
    assert literal("Where is my parcel") == "Where is my parcel"
    assert literal(None) == ""
    assert literal(42) == "42"


def test_label_safe_is_the_same_helper() -> None:
    text = ":red-background[**x**] ![i](http://t/p.png)"
    assert label_safe(text) == literal(text, 80)
