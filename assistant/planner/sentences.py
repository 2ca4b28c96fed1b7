"""A passage cut into sentences a customer can read on their own: the candidates of an extractive answer.

Markdown is removed; a Markdown table row becomes one sentence that keeps its column headers ("Standard
(option) — carrier: UPS Ground; transit time: 4 to 6 business days."), a list stays with the line that
introduces it ("We accept two reasons: no longer needed; ordered by mistake."), numbered steps lose their
numbers, headings (labels, not sentences) are left out, and a sentence that points back in its first
words ("Please choose one of them when you cancel.") stays with the one before it. Nothing is cut
mid-sentence, and a lead-in that lost its list ("We accept two reasons:") is never a candidate.
"""

from __future__ import annotations

import re

_SENTENCE_RE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-ZÀ-Ý0-9\"'(])")
_MARKUP_RE = re.compile(r"\*\*|__|`")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s")
_BULLET_RE = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+")
_TABLE_ROW_RE = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ENDS_LIKE_A_SENTENCE = re.compile(r"[.!?)\"']$")
MIN_CHARS, MAX_CHARS = 15, 400
# A sentence that points back in its first words ("Please choose one of them", "For these, ...") cannot be
# read on its own: it is kept with the sentence before it.
_POINTS_BACK_RE = re.compile(
    r"^\W*(?:[\w'-]+\W+){0,4}?(these|those|them|ceux-ci|celles-ci|d'eux|d'entre eux|daarvan|hiervan|ervan)\b",
    re.I,
)


# A table row as table_row_sentence writes it: "Express (option) — carrier: UPS Next Day Air; ...".
_ROW_SENTENCE_RE = re.compile(r"^[^—]{1,80} \([^()]{1,60}\) — ")


def is_table_row(sentence: str) -> bool:
    """The sentence is a row of a Markdown table (table_row_sentence's form)."""
    return bool(_ROW_SENTENCE_RE.match(sentence))


def _cells(line: str) -> list[str]:
    return [" ".join(cell.split()) for cell in line.strip().strip("|").split("|")]


def _lower_first(text: str) -> str:
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def table_row_sentence(headers: list[str], cells: list[str]) -> str:
    """One table row as a sentence that names its columns."""
    cells = cells + [""] * (len(headers) - len(cells))
    head = cells[0].rstrip(" .;")
    if headers and headers[0]:
        head = f"{head} ({_lower_first(headers[0])})"
    parts = [
        f"{_lower_first(headers[i])}: {cell.rstrip(' .;')}" if i < len(headers) and headers[i] else cell
        for i, cell in enumerate(cells[1:], start=1)
        if cell.strip()
    ]
    return f"{head} — {'; '.join(parts)}." if parts else f"{head}."


def _blocks(text: str) -> list[str]:
    """Lines of the passage regrouped: tables as row sentences, lists joined to their lead-in line."""
    lines = [_MARKUP_RE.sub("", line).rstrip() for line in text.splitlines()]
    blocks: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _TABLE_ROW_RE.match(line) and index + 1 < len(lines) and _TABLE_RULE_RE.match(lines[index + 1]):
            headers = _cells(line)
            index += 2
            while index < len(lines) and _TABLE_ROW_RE.match(lines[index]):
                blocks.append(table_row_sentence(headers, _cells(lines[index])))
                index += 1
            continue
        if _HEADING_RE.match(line) or not line.strip() or _TABLE_RULE_RE.match(line):
            index += 1
            continue
        if line.rstrip().endswith(":"):
            # "We accept two reasons:" + its list items: one sentence, never a dangling lead-in.
            items: list[str] = []
            follow = index + 1
            while follow < len(lines) and (_BULLET_RE.match(lines[follow]) or not lines[follow].strip()):
                if not lines[follow].strip() and items:
                    break  # a blank line ends the list
                if lines[follow].strip():
                    items.append(_BULLET_RE.sub("", lines[follow]).strip().rstrip(";.,"))
                follow += 1
            if items:
                blocks.append(f"{line.strip()} {'; '.join(items)}.")
                index = follow
                continue
        blocks.append(_BULLET_RE.sub("", line).strip())
        index += 1
    return blocks


def sentences(text: str) -> list[str]:
    """The passage's readable sentences, in reading order."""
    found: list[str] = []
    for block in _blocks(text):
        for sentence in _SENTENCE_RE.split(block):
            sentence = sentence.strip()
            if not MIN_CHARS <= len(sentence) <= MAX_CHARS:
                continue
            if not _ENDS_LIKE_A_SENTENCE.search(sentence):
                sentence += "."  # a list item or a table cell without its full stop
            if sentence.endswith(":."):
                continue
            if found and _POINTS_BACK_RE.search(sentence) and len(found[-1]) + len(sentence) < MAX_CHARS:
                found[-1] = f"{found[-1]} {sentence}"
                continue
            found.append(sentence)
    return found
