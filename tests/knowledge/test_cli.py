"""`parley ingest` and `parley search` through typer's CliRunner, on a real index in a tmp dir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from knowledge.settings import get_settings
from tests.knowledge.test_index import make_corpus


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PARLEY_DATA_DIR in this test's tmp dir; get_settings() re-read for each test."""
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "parley"))
    monkeypatch.delenv("PARLEY_CHROMA_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_ingest_then_search(env: Path) -> None:
    runner = CliRunner()
    corpus = make_corpus(env / "kb")
    first = runner.invoke(app, ["ingest", str(corpus), "--no-progress"])
    assert first.exit_code == 0, first.output
    assert "5 added, 0 updated, 0 unchanged, 0 deleted articles" in first.output

    second = runner.invoke(app, ["ingest", str(corpus)])
    assert second.exit_code == 0
    assert "0 added, 0 updated, 5 unchanged, 0 deleted articles; 0 chunks embedded" in second.output

    result = runner.invoke(app, ["search", "--json", "-k", "2", "how long until my refund arrives"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2
    assert set(hits[0]) == {"article_id", "title", "section", "url", "locale", "score", "text"}
    assert (hits[0]["article_id"], hits[0]["section"]) == ("returns", "Refund timing")

    table = runner.invoke(app, ["search", "locked account", "-k", "1"])
    assert table.exit_code == 0 and "password" in table.output and "Locked account" in table.output

    french = runner.invoke(app, ["search", "--json", "--locale", "fr", "livraison"])
    assert [h["article_id"] for h in json.loads(french.stdout)] == ["livraison"]


def test_ingest_with_errors_exits_1_and_names_the_files(env: Path) -> None:
    corpus = make_corpus(env / "kb")
    (corpus / "broken.json").write_text("{nope")
    (corpus / "empty.txt").write_text("")
    result = CliRunner().invoke(app, ["ingest", str(corpus), "--no-progress", "--collection", "cli_errors"])
    assert result.exit_code == 1
    assert "broken.json: invalid JSON" in result.output and "empty.txt: empty file" in result.output
    assert "5 added" in result.output and "2 errors" in result.output


def test_prune_and_bad_arguments(env: Path) -> None:
    runner = CliRunner()
    corpus = make_corpus(env / "kb")
    assert runner.invoke(app, ["ingest", str(corpus), "--no-progress"]).exit_code == 0
    (corpus / "faq.csv").unlink()
    pruned = runner.invoke(app, ["ingest", str(corpus), "--prune", "--no-progress"])
    assert pruned.exit_code == 0 and "1 deleted articles" in pruned.output

    assert runner.invoke(app, ["search", "  "]).exit_code == 2
    bad_name = runner.invoke(app, ["ingest", str(corpus), "--collection", "x"])  # Chroma needs 3+ chars
    assert bad_name.exit_code == 2 and "invalid collection name" in bad_name.output
    empty = runner.invoke(app, ["search", "--json", "anything", "--collection", "never_built"])
    assert empty.exit_code == 0 and json.loads(empty.stdout) == []
