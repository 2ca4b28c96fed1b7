"""Rendering a reply for a channel: pure functions (plain text, WhatsApp's formatting subset, SMS length).

The bot's replies are short Markdown-ish text with `[n]` citation markers. Each channel gets what it can
show: email gets HTML (escaped, never the customer's or the model's raw HTML) and plain text; WhatsApp its
own subset (*bold*, _italic_, ~strike~, no links in brackets) under 4,096 characters; SMS plain text cut to a
few segments with a link to the full cited answer.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

WHATSAPP_LIMIT = 4096
WHATSAPP_BUTTON_TITLE = 20
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^)\s]{1,500})\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_STRIKE = re.compile(r"~~(.+?)~~")
_CODE = re.compile(r"`([^`\n]+)`")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
# GSM 03.38 basic set (plus the extension table characters, which cost two septets).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


def citation_lines(citations: list[dict[str, Any]]) -> list[str]:
    lines = []
    for c in citations:
        title = str(c.get("title") or c.get("article_id") or "source")
        url = str(c.get("url") or "")
        safe_url = url if url.startswith(("https://", "http://")) else ""
        lines.append(f"[{c.get('ref')}] {title}" + (f" - {safe_url}" if safe_url else ""))
    return lines


def plain_text(text: str) -> str:
    """Markdown emphasis, headings and links as plain text ("label (url)")."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = _STRIKE.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _HEADING.sub(r"\1", text)
    return text.strip()


def with_sources(text: str, citations: list[dict[str, Any]]) -> str:
    lines = citation_lines(citations)
    return text if not lines else text + "\n\nSources:\n" + "\n".join(lines)


def whatsapp_text(text: str) -> str:
    """WhatsApp's subset: *bold*, _italic_, ~strike~, ```mono```; links as "label: url"."""
    text = _LINK.sub(lambda m: f"{m.group(1)}: {m.group(2)}", text)
    text = _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = _HEADING.sub(r"*\1*", text)
    return text.strip()


def fit(text: str, limit: int, more: str = "") -> str:
    """`text` when it fits in `limit` characters; otherwise whole sentences that fit, then `more`."""
    if len(text) <= limit:
        return text
    budget = max(0, limit - len(more) - 2)
    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > budget:
            break
        kept = candidate
    if not kept:  # one very long sentence: cut at a word
        kept = text[:budget].rsplit(" ", 1)[0].rstrip() + "…"
    return f"{kept}\n{more}".strip() if more else kept


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def sms_units(text: str) -> int:
    """Septets (GSM-7, extension characters count two) or UCS-2 code units."""
    if is_gsm7(text):
        return sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def sms_segments(text: str) -> int:
    units = sms_units(text)
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    return 1 if units <= single else math.ceil(units / multi)


def sms_capacity(text: str, segments: int) -> int:
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    return single if segments <= 1 else multi * segments


def sms_text(text: str, citations: list[dict[str, Any]], max_segments: int, full_url: str | None) -> str:
    """Plain text in at most `max_segments` segments; a longer answer is shortened to whole sentences and
    ends with a link to the full cited answer."""
    body = plain_text(text)
    full = with_sources(body, [{**c, "url": None} for c in citations])
    if sms_segments(full) <= max_segments:
        return full
    more = f"Full answer: {full_url}" if full_url else ""
    limit = sms_capacity(full + more, max_segments)
    shortened = fit(body, limit, more)
    while sms_segments(shortened) > max_segments and limit > 20:
        limit -= 10
        shortened = fit(body, limit, more)
    return shortened


def whatsapp_body(text: str, citations: list[dict[str, Any]], full_url: str | None) -> str:
    body = with_sources(whatsapp_text(text), citations)
    more = f"Full answer: {full_url}" if full_url else ""
    return fit(body, WHATSAPP_LIMIT, more)


def email_bodies(text: str, citations: list[dict[str, Any]], signature: str) -> tuple[str, str]:
    """(plain, html). The HTML is built from escaped text only: nothing of the reply is markup."""
    plain = with_sources(plain_text(text), citations) + f"\n\n-- \n{signature}"
    paragraphs = [p for p in plain_text(text).split("\n\n") if p.strip()]
    parts = ["<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs]
    lines = citation_lines(citations)
    if lines:
        items = []
        for c in citations:
            title = html.escape(str(c.get("title") or c.get("article_id") or "source"))
            url = str(c.get("url") or "")
            if url.startswith(("https://", "http://")):
                items.append(
                    f'<li>[{c.get("ref")}] <a href="{html.escape(url, quote=True)}">{title}</a></li>'
                )
            else:
                items.append(f"<li>[{c.get('ref')}] {title}</li>")
        parts.append("<p>Sources:</p><ul>" + "".join(items) + "</ul>")
    parts.append(f'<p style="color:#666">{html.escape(signature)}</p>')
    return plain, "<!doctype html><html><body>" + "".join(parts) + "</body></html>"
