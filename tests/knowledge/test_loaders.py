"""Loaders: every supported format, and bad input reported by name with a reason."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.loaders import load_file, load_paths
from knowledge.settings import Settings

CAP = 10_000_000


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_and_sections(tmp_path: Path) -> None:
    md = write(
        tmp_path / "reset-password.md",
        "---\nid: kb-42\ntitle: Reset your password\nurl: https://help.example/kb-42\nlocale: en_US\n"
        "tags: [account, login]\n---\nOpen settings first.\n\n## Steps\nClick *Forgot password*.\n",
    )
    [article], errors = load_file(md, CAP)
    assert errors == []
    assert (article.id, article.title, article.url, article.locale) == (
        "kb-42", "Reset your password", "https://help.example/kb-42", "en-us",
    )  # fmt: skip
    assert article.tags == ["account", "login"]
    assert [(s.heading, s.text) for s in article.sections] == [
        ("", "Open settings first."), ("Steps", "Click *Forgot password*."),
    ]  # fmt: skip


def test_markdown_without_front_matter_uses_stem_and_h1(tmp_path: Path) -> None:
    [article], _ = load_file(write(tmp_path / "shipping.md", "# Shipping times\nTwo to five days."), CAP)
    assert (article.id, article.title, article.locale) == ("shipping", "Shipping times", "")


def test_html_title_body_and_heading_sections(tmp_path: Path) -> None:
    html = write(
        tmp_path / "gift-cards.html",
        "<html lang='fr'><head><title>Cartes cadeaux</title><style>p{}</style></head><body>"
        "<nav>Menu Home</nav><h1>Cartes cadeaux</h1><p>Une carte <b>cadeau</b> vaut un an.</p>"
        "<h2>Solde</h2><p>Voir le solde.</p><ul><li>En ligne</li><li>En magasin</li></ul>"
        "<script>alert(1)</script><h3>Perte</h3><p>Contactez-nous.</p></body></html>",
    )
    [article], errors = load_file(html, CAP)
    assert errors == []
    assert (article.id, article.title, article.locale) == ("gift-cards", "Cartes cadeaux", "fr")
    headings = [s.heading for s in article.sections]
    assert headings == ["Cartes cadeaux", "Solde", "Perte"]
    assert article.sections[0].text == "Une carte cadeau vaut un an."
    assert "En ligne" in article.sections[1].text and "En magasin" in article.sections[1].text
    assert "alert" not in article.text and "Menu" not in article.text


def test_plain_text(tmp_path: Path) -> None:
    [article], _ = load_file(write(tmp_path / "hours.txt", "Opening hours\n\nWe open at nine."), CAP)
    assert (article.id, article.title) == ("hours", "Opening hours")
    assert "We open at nine." in article.text


def test_json_object_and_list(tmp_path: Path) -> None:
    single = write(tmp_path / "one.json", json.dumps({"title": "One", "content": "## A\nalpha"}))
    [article], _ = load_file(single, CAP)
    assert (article.id, article.title, article.sections[0].heading) == ("one", "One", "A")

    many = write(
        tmp_path / "many.json",
        json.dumps([
            {"id": "x1", "title": "X", "body": "text x", "locale": "de", "tags": "a, b"},
            {"id": "x2", "content": "text y", "url": "https://e/x2"},
            {"id": "x3", "title": "no body"},
            "not an object",
        ]),
    )  # fmt: skip
    articles, errors = load_file(many, CAP)
    assert [(a.id, a.locale, a.tags, a.url) for a in articles] == [
        ("x1", "de", ["a", "b"], ""), ("x2", "", [], "https://e/x2"),
    ]  # fmt: skip
    assert len(errors) == 2 and "no 'content' or 'body'" in errors[0].reason
    assert "expected an object" in errors[1].reason


def test_jsonl_bad_line_reported_others_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path / "faq.jsonl",
        '{"id": "j1", "content": "first"}\n{broken\n\n{"id": "j2", "body": "second"}\n',
    )
    articles, errors = load_file(path, CAP)
    assert [a.id for a in articles] == ["j1", "j2"]
    assert len(errors) == 1 and errors[0].reason.startswith("line 2: invalid JSON")


def test_csv_faq_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "faq.csv",
        'Question,Answer,locale\n"How do I return an item?","Within 30 days, from your orders page.",en\n'
        "Where is my order?,Track it from the email we sent.,en\n,missing question,en\n",
    )
    articles, errors = load_file(path, CAP)
    assert [a.title for a in articles] == ["How do I return an item?", "Where is my order?"]
    assert articles[0].id == "faq-how-do-i-return-an-item" and articles[0].locale == "en"
    assert articles[0].text == "Within 30 days, from your orders page."
    assert [e.reason for e in errors] == ["row 4: empty question or answer"]


def test_csv_without_required_columns(tmp_path: Path) -> None:
    articles, errors = load_file(write(tmp_path / "bad.csv", "a,b\n1,2\n"), CAP)
    assert articles == [] and "'question' and 'answer'" in errors[0].reason


def test_bad_files_are_reported_and_skipped(tmp_path: Path, settings: Settings) -> None:
    root = tmp_path / "kb"
    write(root / "good.md", "# Good\nFine text.")
    (root / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 10)
    write(root / "invalid.json", '{"id": "x", "content": ')
    write(root / "empty.txt", "  \n")
    write(root / "latin1.txt", "")
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with (root / "huge.md").open("wb") as handle:  # 20 MB, over the 10 MB default cap
        handle.write(b"a" * 20_000_000)
    write(root / "bad-front-matter.md", "---\n: : [\n---\ntext")
    (root / "picture.png").write_bytes(b"\x89PNG")
    write(root / ".hidden" / "secret.md", "# hidden")

    result = load_paths([root, tmp_path / "missing"], settings.max_source_file_bytes)
    assert [a.id for a in result.articles] == ["good"]
    reasons = {Path(e.path).name: e.reason for e in result.errors}
    assert reasons["binary.md"] == "binary file (contains NUL bytes)"
    assert reasons["invalid.json"].startswith("invalid JSON")
    assert reasons["empty.txt"] == "empty file"
    assert reasons["latin1.txt"].startswith("not UTF-8 text")
    assert reasons["huge.md"].startswith("file too large (20,000,000 bytes")
    assert reasons["bad-front-matter.md"].startswith("invalid YAML front matter")
    assert reasons["missing"] == "no such file or directory"
    assert [Path(p).name for p in result.ignored] == ["picture.png"]


def test_explicit_unsupported_file_is_an_error(tmp_path: Path) -> None:
    picture = tmp_path / "a.png"
    picture.write_bytes(b"\x89PNG")
    result = load_paths([picture], CAP)
    assert result.errors[0].reason == "unsupported file type '.png'"
