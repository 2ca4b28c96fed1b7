"""The console's one escaping helper: text somebody typed (a customer, a help article, a shop record, an
agent, an API error quoting any of those) made literal for the places Streamlit parses Markdown.

Streamlit parses Markdown (and its own directives: `:red-background[...]`, `:material/icon:`, colours,
badges) in st.markdown, st.caption, st.error/warning/success/info, st.subheader, widget labels, expander
and tab titles and `help=` tooltips. Long customer bodies go through `st.text` (which parses nothing);
every other untrusted string that reaches the page goes through `literal` first. Issue 11, finding 8: a
customer's `![x](http://tracker/pixel.png)` was fetched by the agent's browser, links were clickable and
`:red-background[**SYSTEM NOTE…**]` rendered as a banner.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation, so escaping all of it turns every construct
# (emphasis, links, images, HTML tags, code, headings, lists, tables, Streamlit's `:directive[...]` and
# `:material/x:`) into the characters themselves. GitHub autolinks (www.x.com, http://x) need their
# punctuation escaped too, which this does.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Line breaks would start new Markdown blocks (headings, lists, quotes); bidi controls and zero-width
# characters can make text read differently from what it is.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# GFM autolink literals (http://x, www.x, a@b.c, mailto:) are found in the text *after* escapes are
# resolved (remark-gfm, Streamlit's renderer), so escaping does not stop them (seen in Chromium: an
# escaped `http\:\/\/evil.example` was still a link). A WORD JOINER (U+2060, invisible) after every
# ':' and '@' and inside 'www.' breaks every such pattern.
_AUTOLINK = re.compile(r"(?i)(www)(?=\.)|([:@])")
JOINER = "\u2060"


def literal(text: object, limit: int | None = None, one_line: bool = True) -> str:
    """`text` as Markdown that renders as exactly these characters: no link, image, HTML, emphasis,
    directive, icon or autolink (an invisible word joiner follows each ':' and '@' and splits 'www.').
    One line unless `one_line=False` (then line breaks stay hard breaks); at most
    `limit` characters (an ellipsis marks the cut) before escaping."""
    raw = "" if text is None else str(text)
    raw = _INVISIBLE.sub("", raw)
    if one_line:
        raw = " ".join(raw.split())
    if limit is not None and len(raw) > limit:
        raw = raw[: max(0, limit - 1)] + "…"
    raw = _AUTOLINK.sub(lambda m: m.group(0) + JOINER, raw)
    escaped = _PUNCTUATION.sub(r"\\\1", raw)
    if not one_line:
        escaped = "  \n".join(line.strip() for line in escaped.splitlines())
    return escaped
