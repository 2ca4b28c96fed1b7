"""Rendering per channel: plain text, WhatsApp's subset and limit, SMS segments with a link to the rest."""

from __future__ import annotations

from assistant.channels.render import (
    WHATSAPP_LIMIT,
    email_bodies,
    fit,
    plain_text,
    sms_segments,
    sms_text,
    whatsapp_body,
    whatsapp_text,
)

CITES = [{"ref": 1, "title": "Returns", "url": "https://help.example/returns"}]


def test_plain_text_drops_markdown() -> None:
    assert plain_text("## Refunds\n**5 days** via [our page](https://x.example/r)") == (
        "Refunds\n5 days via our page (https://x.example/r)"
    )


def test_whatsapp_formatting_subset() -> None:
    assert (
        whatsapp_text("**bold** ~~gone~~ [link](https://x.example)")
        == "*bold* ~gone~ link: https://x.example"
    )


def test_whatsapp_limit_keeps_whole_sentences_and_links_the_rest() -> None:
    long = " ".join(f"Sentence number {i} is here." for i in range(400))
    body = whatsapp_body(long, CITES, "https://parley.example/full")
    assert len(body) <= WHATSAPP_LIMIT
    assert body.endswith("Full answer: https://parley.example/full")
    assert "is here.\nFull answer" in body


def test_sms_short_answer_is_whole_with_sources() -> None:
    text = sms_text("Refunds take 5 days [1].", CITES, 3, "https://p.example/a")
    assert text == "Refunds take 5 days [1].\n\nSources:\n[1] Returns"
    assert sms_segments(text) == 1


def test_sms_long_answer_fits_the_segments_and_links_the_full_answer() -> None:
    long = " ".join(f"Step {i}: do the thing carefully [1]." for i in range(60))
    text = sms_text(long, CITES, 3, "https://p.example/a/1")
    assert sms_segments(text) <= 3
    assert text.endswith("Full answer: https://p.example/a/1")
    assert "Step 0" in text and "Step 59" not in text


def test_sms_segments_gsm_and_unicode() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("é" * 160) == 1  # é is in the GSM-7 set
    assert sms_segments("ł" * 71) == 2  # UCS-2: 70 per single segment


def test_fit_cuts_a_single_long_sentence_at_a_word() -> None:
    assert fit("word " * 100, 30).endswith("…")
    assert len(fit("word " * 100, 30)) <= 30


def test_email_html_is_built_from_escaped_text_only() -> None:
    plain, html = email_bodies("<script>alert(1)</script> Refunds [1]", CITES, "Maple & Moss")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="https://help.example/returns">Returns</a>' in html
    assert "Sources:\n[1] Returns - https://help.example/returns" in plain
    _, html = email_bodies("x", [{"ref": 1, "title": "Bad", "url": "javascript:alert(1)"}], "S")
    assert "javascript:" not in html
