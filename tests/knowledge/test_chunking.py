"""Chunking: headings first, then length on paragraph/sentence boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.chunking import Section, chunk_article, split_markdown_sections, split_text
from knowledge.loaders import Article


def test_markdown_sections_follow_headings_and_ignore_code_fences() -> None:
    text = (
        "Intro line.\n# Refunds\nHow refunds work.\n```\n# not a heading\n```\n"
        "## Timing\nFive days.\n### Empty"
    )
    sections = split_markdown_sections(text)
    assert [(s.heading, s.level) for s in sections] == [("", 0), ("Refunds", 1), ("Timing", 2), ("Empty", 3)]
    assert "# not a heading" in sections[1].text
    assert sections[2].text == "Five days."


def test_short_text_is_one_piece() -> None:
    assert split_text("  One short paragraph.  ", 100, 10) == ["One short paragraph."]
    assert split_text("   ", 100, 10) == []


def test_long_text_breaks_on_paragraphs_within_size() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 30 for i in range(10)]
    pieces = split_text("\n\n".join(p.strip() for p in paragraphs), 400, 0)
    assert len(pieces) > 1
    assert all(len(piece) <= 400 for piece in pieces)
    # every piece starts at a paragraph start: nothing was cut mid-paragraph
    assert all(piece.startswith("Paragraph") for piece in pieces)
    joined = "\n\n".join(pieces)
    assert all(p.strip() in joined for p in paragraphs)


def test_long_paragraph_breaks_on_sentences_with_overlap() -> None:
    sentences = [f"Sentence number {i} explains one more detail of the policy." for i in range(40)]
    pieces = split_text(" ".join(sentences), 300, 120)
    assert all(len(piece) <= 300 for piece in pieces)
    assert all(piece.endswith(".") for piece in pieces)  # ends on a sentence boundary
    for previous, following in zip(pieces, pieces[1:], strict=False):
        last_sentence = previous.rsplit(". ", 1)[-1]
        overlap = following[: following.index(last_sentence) + len(last_sentence)]
        assert previous.endswith(overlap)  # the overlap is whole trailing sentence(s) of the previous piece
        assert len(overlap) <= 120


def test_unbreakable_text_is_cut_hard_but_completely() -> None:
    pieces = split_text("x" * 1000, 300, 50)
    assert all(len(piece) <= 300 for piece in pieces)
    assert "".join(pieces) == "x" * 1000


def test_invalid_size_is_refused() -> None:
    with pytest.raises(ValueError):
        split_text("text", 0, 0)


def test_chunk_article_keeps_metadata_and_order() -> None:
    article = Article(
        id="a1",
        title="Returns",
        sections=[Section("", 0, "Intro."), Section("Window", 2, "Thirty days. " * 40)],
        source=str(Path("/tmp/a1.md")),
        url="https://help.example/a1",
        locale="en",
    )
    chunks = chunk_article(article, 200, 40)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].section == "" and all(c.section == "Window" for c in chunks[1:])
    assert len(chunks) > 2
    assert {(c.article_id, c.title, c.url, c.locale) for c in chunks} == {
        ("a1", "Returns", "https://help.example/a1", "en")
    }
    assert chunks[1].embedding_text.startswith("Returns — Window\n\n")
    assert chunks[1].content_hash != chunks[2].content_hash or chunks[1].text == chunks[2].text
