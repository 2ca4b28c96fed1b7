"""`parley ingest` against hostile sources: each bad file is reported and skipped, the run goes on.

Each test reproduces a finding of issue 11 (item 7) and failed before the fix: the symlink was indexed, the
nested JSON aborted the run with RecursionError, the alias bomb was expanded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from knowledge.loaders import load_file, load_paths
from knowledge.safe_files import MAX_JSON_DEPTH, json_depth
from knowledge.tables import row_sentence, tables_to_sentences

CAP = 10_000_000


def good_article(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "good.md").write_text("# Returns\nItems can be returned within 30 days.\n")


def test_a_symlink_out_of_the_source_folder_is_reported_and_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("# Internal\nThe admin password is hunter2.\n")
    source = tmp_path / "kb"
    good_article(source)
    os.symlink(secret, source / "innocent.md")
    os.symlink(secret.parent, source / "linked-folder")
    (source / "inside.md").symlink_to(source / "good.md")  # a link inside the tree is fine
    result = load_paths([source], CAP)
    texts = " ".join(a.text for a in result.articles)
    assert "hunter2" not in texts
    assert sorted(a.id for a in result.articles) == ["good", "inside"]
    assert sorted(Path(e.path).name for e in result.errors) == ["innocent.md", "linked-folder"]
    assert all("outside the source folder" in e.reason for e in result.errors)


def test_a_dangling_symlink_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "kb"
    good_article(source)
    os.symlink(tmp_path / "nowhere.md", source / "dangling.md")
    result = load_paths([source], CAP)
    assert [a.id for a in result.articles] == ["good"]
    assert [Path(e.path).name for e in result.errors] == ["dangling.md"]


def test_deeply_nested_json_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "kb"
    good_article(source)
    depth = 100_000  # about 400 KB: json.loads raised RecursionError and the whole ingest aborted
    (source / "nested.json").write_text("[" * depth + "]" * depth)
    (source / "nested.jsonl").write_text(
        '{"id": "ok", "content": "fine"}\n' + "[" * depth + "]" * depth + "\n"
    )
    result = load_paths([source], CAP)
    assert sorted(a.id for a in result.articles) == ["good", "ok"]
    reasons = {Path(e.path).name: e.reason for e in result.errors}
    assert reasons["nested.json"] == f"JSON nested {depth} levels deep (the limit is {MAX_JSON_DEPTH})"
    assert reasons["nested.jsonl"].startswith("line 2: JSON nested")


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert json_depth('"\\"[[["') == 0


def test_yaml_alias_bomb_in_front_matter_is_refused(tmp_path: Path) -> None:
    # The shape of the 484-byte bomb, with fewer levels so that a loader that expands it still finishes.
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for number in range(1, 6):
        prev, name = chr(ord("a") + number - 1), chr(ord("a") + number)
        levels.append(
            f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]"
        )
    path = tmp_path / "bomb.md"
    path.write_text("---\n" + "\n".join(levels) + "\ntitle: Boom\n---\n# Boom\nText.\n")
    articles, errors = load_file(path, CAP)
    assert articles == []
    assert [e.reason for e in errors] == [
        "invalid YAML front matter: YAML aliases (*name) are not allowed in front matter"
    ]


def test_oversized_front_matter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("---\ntitle: " + "x" * 20_000 + "\n---\nText.\n")
    articles, errors = load_file(path, CAP)
    assert articles == [] and "front matter larger than" in errors[0].reason


def test_plain_front_matter_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "plain.md"
    path.write_text("---\nid: plain\ntags: [a, b]\nlocale: fr\n---\n# Titre\nTexte.\n")
    [article], errors = load_file(path, CAP)
    assert errors == [] and (article.id, article.locale, article.tags) == ("plain", "fr", ["a", "b"])


@pytest.mark.parametrize(
    ("headers", "cells", "sentence"),
    [
        (
            ["Option", "Carrier", "Transit time"],
            ["Standard", "UPS Ground", "4 to 6 business days"],
            "Standard (option) — carrier: UPS Ground; transit time: 4 to 6 business days.",
        ),
        (["Size", "US shoe size"], ["M", "7.5–9.5"], "M (size) — US shoe size: 7.5–9.5."),
        (["Status", "Meaning"], ["cancelled", ""], "cancelled (status)."),
    ],
)
def test_a_table_row_becomes_a_sentence_with_its_headers(
    headers: list[str], cells: list[str], sentence: str
) -> None:
    assert row_sentence(headers, cells) == sentence


def test_tables_in_help_articles_are_read_as_sentences(tmp_path: Path) -> None:
    text = (
        "Intro line.\n\n| Refund goes to | Time until you see it |\n|---|:---:|\n"
        "| **Credit card** | 5 to 7 business days |\n| Gift card | immediately |\n\nAfter the table.\n"
    )
    assert tables_to_sentences(text) == (
        "Intro line.\n\nCredit card (refund goes to) — time until you see it: 5 to 7 business days.\n"
        "Gift card (refund goes to) — time until you see it: immediately.\n\nAfter the table."
    )
    path = tmp_path / "refunds.md"
    path.write_text("# Refunds\n" + text)
    [article], _ = load_file(path, CAP)
    assert "|" not in article.text and "Credit card (refund goes to)" in article.text
    json_path = tmp_path / "refunds.json"
    json_path.write_text(json.dumps({"id": "r", "title": "Refunds", "content": text}))
    [from_json], _ = load_file(json_path, CAP)
    assert "Gift card (refund goes to) — time until you see it: immediately." in from_json.text
