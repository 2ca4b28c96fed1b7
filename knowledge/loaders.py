"""Read help-centre sources (Markdown, HTML, text, JSON/JSONL, CSV FAQs) into Articles.

Every problem with a file (unreadable, binary, empty, too large, malformed) becomes a `LoadError` with
the file's name and the reason, so an ingest run can report it, skip the file and go on.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.chunking import Section, split_markdown_sections
from knowledge.safe_files import SourceError, check_json_depth, load_front_matter, outside_root

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
JSON_SUFFIXES = frozenset({".json"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
CSV_SUFFIXES = frozenset({".csv"})
SUPPORTED_SUFFIXES = (
    MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | CSV_SUFFIXES
)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.()\-]+")


@dataclass
class Article:
    """One help-centre article, already split into titled sections."""

    id: str
    title: str
    sections: list[Section]
    source: str  # resolved path of the file it came from
    url: str = ""
    locale: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)


@dataclass
class LoadError:
    """A file (or one record in it) that could not be loaded, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    files_read: int = 0
    # Files in a folder with a suffix we do not read (images, PDFs, ...): listed, not errors.
    ignored: list[str] = field(default_factory=list)


def iter_source_files(path: Path) -> Iterator[Path]:
    """`path` itself if it is a file, else every file under it (sorted, hidden files and folders skipped).
    Symlinks are listed like files; `load_paths` refuses those that lead out of `path`."""
    if path.is_file():
        yield path
        return
    for candidate in sorted(path.rglob("*")):
        relative = candidate.relative_to(path)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if candidate.is_file() or candidate.is_symlink():
            yield candidate


def load_paths(paths: Iterable[Path], max_file_bytes: int) -> LoadResult:
    """Load every supported file under `paths`; problems are collected, never raised."""
    result = LoadResult()
    for root in paths:
        if not root.exists():
            result.errors.append(LoadError(str(root), "no such file or directory"))
            continue
        explicit_file = root.is_file()
        for file in iter_source_files(root):
            if not explicit_file and outside_root(file, root):
                result.errors.append(
                    LoadError(str(file), "symlink leads outside the source folder (or nowhere): not read")
                )
                continue
            if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                if explicit_file:
                    result.errors.append(
                        LoadError(str(file), f"unsupported file type {file.suffix or '(none)'!r}")
                    )
                else:
                    result.ignored.append(str(file))
                continue
            result.files_read += 1
            articles, errors = load_file(file, max_file_bytes)
            result.articles.extend(articles)
            result.errors.extend(errors)
    return result


def load_file(path: Path, max_file_bytes: int) -> tuple[list[Article], list[LoadError]]:
    """Articles of one file, and the problems found in it."""
    try:
        text = read_text_file(path, max_file_bytes)
        suffix = path.suffix.lower()
        if suffix in MARKDOWN_SUFFIXES:
            return [parse_markdown(text, path)], []
        if suffix in HTML_SUFFIXES:
            return [parse_html(text, path)], []
        if suffix in TEXT_SUFFIXES:
            return [parse_text(text, path)], []
        if suffix in JSON_SUFFIXES:
            return parse_json(text, path)
        if suffix in JSONL_SUFFIXES:
            return parse_jsonl(text, path)
        if suffix in CSV_SUFFIXES:
            return parse_csv(text, path)
        raise SourceError(f"unsupported file type {suffix!r}")
    except SourceError as exc:
        return [], [LoadError(str(path), str(exc))]
    except RecursionError:  # e.g. HTML nested thousands of levels deep: this file only, never the run
        return [], [LoadError(str(path), "nested too deeply to read")]


def read_text_file(path: Path, max_file_bytes: int) -> str:
    """The file's UTF-8 text, or SourceError for an unreadable, oversized, binary or empty file."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            raise SourceError(f"file too large ({size:,} bytes; the limit is {max_file_bytes:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from exc
    if b"\x00" in raw[:8192]:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    if not text.strip():
        raise SourceError("empty file")
    return text


def _clean_id(value: Any, what: str) -> str:
    article_id = str(value).strip()
    if not article_id:
        raise SourceError(f"{what}: empty id")
    if len(article_id) > 200:
        raise SourceError(f"{what}: id longer than 200 characters")
    return article_id


def _slug(text: str, limit: int = 60) -> str:
    slug = _ID_UNSAFE.sub("-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "item"


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    raise SourceError(f"tags must be a list or a comma-separated string, not {type(value).__name__}")


def _optional_str(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    raise SourceError(f"{name} must be a string, not {type(value).__name__}")


def _article(
    *,
    article_id: str,
    title: str,
    sections: list[Section],
    path: Path,
    meta: dict[str, Any],
) -> Article:
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise SourceError(f"article {article_id!r} has no text")
    return Article(
        id=article_id,
        title=title.strip() or article_id,
        sections=sections,
        source=str(path.resolve()),
        url=_optional_str(meta.get("url"), "url"),
        locale=_optional_str(meta.get("locale"), "locale").lower().replace("_", "-"),
        tags=_tags(meta.get("tags")),
    )


def parse_markdown(text: str, path: Path) -> Article:
    """Markdown with optional YAML front matter (id, title, url, locale, tags)."""
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        loaded = load_front_matter(match.group(1))
        if loaded is not None and not isinstance(loaded, dict):
            raise SourceError("YAML front matter must be a mapping (key: value lines)")
        meta = loaded or {}
        text = text[match.end() :]
    sections = split_markdown_sections(text)
    title = _optional_str(meta.get("title"), "title")
    if not title:
        title = next((s.heading for s in sections if s.level == 1), "") or path.stem
    article_id = _clean_id(meta.get("id") or path.stem, str(path))
    return _article(article_id=article_id, title=title, sections=sections, path=path, meta=meta)


_HTML_BLOCKS = (
    "p", "div", "section", "article", "li", "ul", "ol", "pre", "blockquote", "table", "tr",
    "h4", "h5", "h6", "dt", "dd", "header", "main", "figure", "figcaption", "hr",
)  # fmt: skip
_HTML_NOISE = ("script", "style", "noscript", "template", "nav", "footer", "svg", "iframe", "form", "head")
_HEADING_MARK = "\x00HEADING\x00"


def parse_html(text: str, path: Path) -> Article:
    """HTML page: title from <title> (else the first <h1>), text from <body>, sections by h1-h3."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title_tag = soup.find("title")
    first_h1 = soup.find("h1")
    title = (title_tag.get_text(" ", strip=True) if title_tag else "") or (
        first_h1.get_text(" ", strip=True) if first_h1 else ""
    )
    lang = soup.html.get("lang") if soup.html else None
    body = soup.body or soup
    for tag in body.find_all(_HTML_NOISE):
        tag.decompose()
    for br in body.find_all("br"):
        br.replace_with("\n")
    for tag in body.find_all(["h1", "h2", "h3"]):
        level = int(tag.name[1])
        heading = " ".join(tag.get_text(" ", strip=True).split())
        tag.replace_with(f"\n\n{_HEADING_MARK}{level}{_HEADING_MARK}{heading}\n\n")
    for tag in body.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    flat = body.get_text()
    sections: list[Section] = []
    current = Section(heading="", level=0, text="")
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", flat):
        block = block.strip()
        if not block:
            continue
        if block.startswith(_HEADING_MARK):
            current.text = "\n\n".join(paragraphs)
            sections.append(current)
            _, level_text, heading = block.split(_HEADING_MARK, 2)
            current, paragraphs = Section(heading=heading.strip(), level=int(level_text), text=""), []
            continue
        lines = [" ".join(line.split()) for line in block.splitlines()]
        paragraphs.append("\n".join(line for line in lines if line))
    current.text = "\n\n".join(paragraphs)
    sections.append(current)
    meta: dict[str, Any] = {"locale": lang if isinstance(lang, str) else None}
    canonical = soup.find("link", rel="canonical")
    if canonical is not None and isinstance(canonical.get("href"), str):
        meta["url"] = canonical.get("href")
    return _article(
        article_id=_clean_id(path.stem, str(path)), title=title or path.stem, sections=sections,
        path=path, meta=meta,
    )  # fmt: skip


def parse_text(text: str, path: Path) -> Article:
    """Plain text: one section; the first line is the title when it is short."""
    first_line = text.strip().splitlines()[0].strip()
    title = first_line if len(first_line) <= 120 else path.stem
    sections = [Section(heading="", level=0, text=text.strip())]
    return _article(
        article_id=_clean_id(path.stem, str(path)), title=title, sections=sections, path=path, meta={}
    )


def _from_record(record: Any, path: Path, default_id: str, where: str) -> Article:
    if not isinstance(record, dict):
        raise SourceError(f"{where}: expected an object, got {type(record).__name__}")
    body = next((record[key] for key in ("content", "body", "text") if record.get(key) is not None), None)
    if body is None:
        raise SourceError(f"{where}: no 'content' or 'body' field")
    if not isinstance(body, str):
        raise SourceError(f"{where}: 'content'/'body' must be a string, not {type(body).__name__}")
    article_id = _clean_id(record.get("id") or default_id, where)
    title = _optional_str(record.get("title"), "title")
    sections = split_markdown_sections(body)  # JSON bodies are usually Markdown; plain text is one section
    if not title:
        title = next((s.heading for s in sections if s.level == 1), "") or article_id
    return _article(article_id=article_id, title=title, sections=sections, path=path, meta=record)


def parse_json(text: str, path: Path) -> tuple[list[Article], list[LoadError]]:
    """A JSON file holding one article object or a list of them."""
    check_json_depth(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:  # depth is checked above; this is the last line of defence
        raise SourceError("JSON nested too deeply") from exc
    if isinstance(data, dict):
        return [_from_record(data, path, path.stem, "object")], []
    if not isinstance(data, list):
        raise SourceError(f"expected an object or a list of objects, got {type(data).__name__}")
    articles: list[Article] = []
    errors: list[LoadError] = []
    for number, record in enumerate(data):
        try:
            articles.append(_from_record(record, path, f"{path.stem}-{number}", f"item {number}"))
        except SourceError as exc:
            errors.append(LoadError(str(path), str(exc)))
    return articles, errors


def parse_jsonl(text: str, path: Path) -> tuple[list[Article], list[LoadError]]:
    """One article object per line; a bad line is reported and the others are kept."""
    articles: list[Article] = []
    errors: list[LoadError] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {line_number}"
        try:
            check_json_depth(line, where)
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{where}: invalid JSON: {exc.msg}") from exc
            except RecursionError as exc:
                raise SourceError(f"{where}: JSON nested too deeply") from exc
            articles.append(_from_record(record, path, f"{path.stem}-{line_number}", where))
        except SourceError as exc:
            errors.append(LoadError(str(path), str(exc)))
    if not articles and not errors:
        raise SourceError("no records")
    return articles, errors


def parse_csv(text: str, path: Path) -> tuple[list[Article], list[LoadError]]:
    """A FAQ table: question and answer columns (optional id, url, locale, tags); one article per row."""
    try:
        reader = csv.DictReader(io.StringIO(text))
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise SourceError(f"invalid CSV: {exc}") from exc
    columns = {name.strip().lower(): name for name in fieldnames if name}
    if "question" not in columns or "answer" not in columns:
        raise SourceError(f"CSV needs 'question' and 'answer' columns, found {sorted(columns) or 'none'}")
    articles: list[Article] = []
    errors: list[LoadError] = []
    seen: dict[str, int] = {}
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise SourceError(f"invalid CSV: {exc}") from exc
    for row_number, row in enumerate(rows, start=2):  # row 1 is the header
        record = {key: (row.get(original) or "").strip() for key, original in columns.items()}
        question, answer = record["question"], record["answer"]
        if not question or not answer:
            errors.append(LoadError(str(path), f"row {row_number}: empty question or answer"))
            continue
        # A stable id from the question, so inserting a row does not renumber (and re-embed) the others.
        article_id = record.get("id") or f"{path.stem}-{_slug(question)}"
        seen[article_id] = seen.get(article_id, 0) + 1
        if seen[article_id] > 1:
            article_id = f"{article_id}-{seen[article_id]}"
        try:
            articles.append(
                _article(
                    article_id=article_id,
                    title=question,
                    sections=[Section(heading="", level=0, text=answer)],
                    path=path,
                    meta=record,
                )
            )
        except SourceError as exc:
            errors.append(LoadError(str(path), f"row {row_number}: {exc}"))
    return articles, errors
