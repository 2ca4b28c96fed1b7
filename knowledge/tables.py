"""Markdown tables read as facts: each row becomes one sentence that keeps its column headers.

| Option | Carrier | Transit time |          "Standard (option) — carrier: UPS Ground; transit time: 4 to 6
|---|---|---|                          ->     business days."
| Standard | UPS Ground | 4 to 6 business days |

A reader, the embedding model and the extractive answerer (which splits chunk text into sentences) all see
"Standard ... transit time: 4 to 6 business days." instead of pipes. The first column names the row; the
other cells follow as "header: value", so "how long does standard shipping take?" finds its fact.
"""

from __future__ import annotations

import re

_ROW = re.compile(r"^\s*\|.*\|\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MARKUP = re.compile(r"\*\*|__|`")


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [" ".join(_MARKUP.sub("", cell).split()) for cell in re.split(r"(?<!\\)\|", inner)]


def _clause(cell: str) -> str:
    return cell.rstrip(" .;")


def _lower_first(header: str) -> str:
    """ "Transit time" -> "transit time", but "US shoe size" and "EU" keep their capitals."""
    if len(header) > 1 and header[1].isupper():
        return header
    return header[:1].lower() + header[1:]


def row_sentence(headers: list[str], cells: list[str]) -> str:
    """One row as a sentence: "<first cell> (<first header>) — <header>: <cell>; ...". Empty cells are left
    out; a row without headers keeps its cells joined by semicolons."""
    cells = cells + [""] * (len(headers) - len(cells))
    label = _clause(cells[0]) if cells else ""
    first_header = _lower_first(headers[0].strip()) if headers else ""
    head = f"{label} ({first_header})" if label and first_header else label
    parts = []
    for index, cell in enumerate(cells[1:], start=1):
        value = _clause(cell)
        if not value:
            continue
        header = headers[index].strip() if index < len(headers) else ""
        parts.append(f"{_lower_first(header)}: {value}" if header else value)
    if not parts:
        return f"{head}." if head else ""
    return f"{head} — {'; '.join(parts)}." if head else f"{'; '.join(parts)}."


def tables_to_sentences(text: str) -> str:
    """`text` with every Markdown table (header row, separator row, body rows) replaced by one sentence per
    body row, each on its own line; everything else is left as it is."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and _ROW.match(lines[i]) and _SEPARATOR.match(lines[i + 1]):
            headers = _cells(lines[i])
            i += 2
            sentences = []
            while i < len(lines) and _ROW.match(lines[i]):
                sentence = row_sentence(headers, _cells(lines[i]))
                if sentence:
                    sentences.append(sentence)
                i += 1
            out.extend(sentences)
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)
