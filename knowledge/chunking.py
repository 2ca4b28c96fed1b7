"""Split articles into chunks: first by headings, then by length on paragraph/sentence boundaries."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.tables import tables_to_sentences

if TYPE_CHECKING:
    from knowledge.loaders import Article

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# A sentence ends at . ! ? (optionally followed by a closing quote/bracket) and whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


@dataclass
class Section:
    """A heading and the text under it (heading "" for text before the first heading)."""

    heading: str
    level: int
    text: str


@dataclass
class Chunk:
    """One piece of an article as it is embedded and stored."""

    article_id: str
    index: int  # position within the article
    section: str
    text: str  # what the reader sees (and what Chroma stores as the document)
    title: str
    url: str
    locale: str

    @property
    def embedding_text(self) -> str:
        """Title and section travel with the text: short chunks rarely name their topic themselves."""
        header = (
            self.title if not self.section or self.section == self.title else f"{self.title} — {self.section}"
        )
        return f"{header}\n\n{self.text}"

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.embedding_text}\x00{self.url}\x00{self.locale}".encode()).hexdigest()


def split_markdown_sections(text: str) -> list[Section]:
    """Sections of a Markdown text by ATX headings (# .. ######), ignoring '#' lines in code fences.
    Tables become one sentence per row (`knowledge.tables`), so their facts read as sentences."""
    sections: list[Section] = []
    current = Section(heading="", level=0, text="")
    lines: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _ATX_HEADING.match(line)
        if match:
            current.text = "\n".join(lines).strip()
            sections.append(current)
            current = Section(heading=match.group(2).strip(), level=len(match.group(1)), text="")
            lines = []
        else:
            lines.append(line)
    current.text = "\n".join(lines).strip()
    sections.append(current)
    for section in sections:
        if "|" in section.text:
            section.text = tables_to_sentences(section.text)
    return [s for s in sections if s.text or s.heading]


def _split_units(text: str, limit: int) -> list[tuple[str, str]]:
    """Paragraphs, then sentences, then words, each no longer than `limit`, with the separator that
    joins it to the unit before ("\n\n" between paragraphs, " " inside one)."""
    units: list[tuple[str, str]] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            units.append((paragraph, "\n\n"))
            continue
        pieces: list[str] = []
        for sentence in _SENTENCE_END.split(paragraph):
            sentence = sentence.strip()
            if not sentence:
                continue
            if len(sentence) <= limit:
                pieces.append(sentence)
                continue
            # A run-on "sentence" (a long list, a table): cut at word boundaries, or hard as a last resort.
            piece = ""
            for word in sentence.split():
                while len(word) > limit:
                    if piece:
                        pieces.append(piece)
                        piece = ""
                    pieces.append(word[:limit])
                    word = word[limit:]
                if piece and len(piece) + 1 + len(word) > limit:
                    pieces.append(piece)
                    piece = word
                else:
                    piece = f"{piece} {word}" if piece else word
            if piece:
                pieces.append(piece)
        units.extend((piece, "\n\n" if i == 0 else " ") for i, piece in enumerate(pieces))
    return units


def _join(units: list[tuple[str, str]]) -> str:
    return "".join(unit if i == 0 else sep + unit for i, (unit, sep) in enumerate(units))


def split_text(text: str, chunk_size: int, chunk_overlap: int) -> list[str]:
    """Pieces of at most about `chunk_size` characters; consecutive pieces share up to `chunk_overlap`.

    Pieces break on paragraph boundaries when they can, else on sentence boundaries, else on words.
    The overlap is made of whole trailing sentences/paragraphs of the previous piece.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    overlap = max(0, min(chunk_overlap, chunk_size // 2))
    text = text.strip()
    if not text:
        return []
    if len(text) <= chunk_size:
        return [text]
    units = _split_units(text, chunk_size)
    pieces: list[str] = []
    current: list[tuple[str, str]] = []
    fresh = 0  # units in `current` not already emitted as overlap
    for unit in units:
        if current and len(_join([*current, unit])) > chunk_size:
            pieces.append(_join(current))
            # Carry whole trailing units (no more than `overlap` characters) into the next piece.
            carried: list[tuple[str, str]] = []
            for previous in reversed(current):
                if len(_join([previous, *carried])) > overlap:
                    break
                carried.insert(0, previous)
            if carried and len(_join([*carried, unit])) > chunk_size:
                carried = []
            current, fresh = carried, 0
        current.append(unit)
        fresh += 1
    if current and fresh:
        pieces.append(_join(current))
    return pieces


def chunk_article(article: Article, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """The article's chunks in reading order: one or more per section."""
    chunks: list[Chunk] = []
    for section in article.sections:
        for piece in split_text(section.text, chunk_size, chunk_overlap):
            chunks.append(
                Chunk(
                    article_id=article.id,
                    index=len(chunks),
                    section=section.heading,
                    text=piece,
                    title=article.title,
                    url=article.url,
                    locale=article.locale,
                )
            )
    return chunks
