"""The evaluation case files agree with the sample help centre: gold articles exist, facts are in them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
HELP_CENTER = REPO_ROOT / "knowledge" / "sample_data" / "help_center"
QUESTIONS = REPO_ROOT / "eval" / "cases" / "sample_shop_questions.jsonl"

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
LOCALES = {"en", "fr", "nl"}
QUESTION_KEYS = {"id", "question", "locale", "gold_article_ids", "facts", "answerable", "tags", "split"}


def _read_articles() -> dict[str, dict[str, Any]]:
    articles: dict[str, dict[str, Any]] = {}
    for path in sorted(HELP_CENTER.glob("*.md")):
        match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        assert match, f"{path.name}: no YAML front matter"
        meta = yaml.safe_load(match.group(1))
        articles[path.stem] = {"meta": meta, "body": match.group(2)}
    return articles


def _read_questions() -> list[dict[str, Any]]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def articles() -> dict[str, dict[str, Any]]:
    return _read_articles()


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _read_questions()


def test_articles_have_consistent_front_matter(articles: dict[str, dict[str, Any]]) -> None:
    assert len(articles) >= 44
    assert not (HELP_CENTER / "README.md").exists(), (
        "a README in help_center/ would be ingested as an article"
    )
    for article_id, article in articles.items():
        meta = article["meta"]
        assert meta["id"] == article_id, f"{article_id}: id differs from the file name"
        assert meta["locale"] in LOCALES, article_id
        assert meta["url"].endswith(f"/{article_id}"), article_id
        assert isinstance(meta["tags"], list) and meta["tags"], article_id
        assert article["body"].startswith(f"# {meta['title']}\n"), f"{article_id}: H1 differs from title"
        if meta["locale"] != "en":
            assert article_id.endswith(f"-{meta['locale']}"), article_id
        words = len(article["body"].split())
        assert 150 <= words <= 500, f"{article_id}: {words} words"


def test_translations_exist_for_key_topics(articles: dict[str, dict[str, Any]]) -> None:
    for base in ("shipping-times", "how-to-return", "cancel-order", "contact-us"):
        for locale in ("fr", "nl"):
            assert f"{base}-{locale}" in articles


def test_questions_have_the_documented_shape(questions: list[dict[str, Any]]) -> None:
    assert len(questions) >= 130
    ids = [q["id"] for q in questions]
    assert len(ids) == len(set(ids)), "duplicate question ids"
    texts = [q["question"].strip().lower() for q in questions]
    assert len(texts) == len(set(texts)), "duplicate questions"
    for q in questions:
        assert set(q) == QUESTION_KEYS, q["id"]
        assert re.fullmatch(r"q\d{3}", q["id"]), q["id"]
        assert q["question"].strip(), q["id"]
        assert q["locale"] in LOCALES, q["id"]
        assert q["split"] in ("dev", "test"), q["id"]
        assert isinstance(q["tags"], list) and q["tags"], q["id"]
        if q["answerable"]:
            assert q["gold_article_ids"] and q["facts"], q["id"]
        else:
            assert q["gold_article_ids"] == [] and q["facts"] == [], q["id"]


def test_question_mix(questions: list[dict[str, Any]]) -> None:
    by_locale = {locale: sum(q["locale"] == locale for q in questions) for locale in LOCALES}
    assert by_locale["fr"] >= 12 and by_locale["nl"] >= 12, by_locale
    unanswerable = [q for q in questions if not q["answerable"]]
    answerable = [q for q in questions if q["answerable"]]
    # Issue 14: at least 80 unanswerable questions, a third of them French or Dutch, as many answerable.
    assert len(unanswerable) >= 80 and len(answerable) >= len(unanswerable)
    assert 3 * sum(q["locale"] != "en" for q in unanswerable) >= len(unanswerable)


def test_the_splits_are_balanced_per_language_and_answerability(questions: list[dict[str, Any]]) -> None:
    """Thresholds are fitted on dev and reported on test: both need every kind of question. The fourth
    round's additions (tag `round4`) are dev only, written to make the fit generalise: the test split stays
    as it was, so they are left out of the balance."""
    for locale in LOCALES:
        for answerable in (True, False):
            group = [
                q
                for q in questions
                if q["locale"] == locale and q["answerable"] == answerable and "round4" not in q["tags"]
            ]
            dev = sum(q["split"] == "dev" for q in group)
            assert abs(dev - (len(group) - dev)) <= 1, (locale, answerable, dev, len(group))
    assert all(q["split"] == "dev" for q in questions if "round4" in q["tags"])


def test_gold_articles_exist_and_contain_every_fact(
    questions: list[dict[str, Any]], articles: dict[str, dict[str, Any]]
) -> None:
    problems: list[str] = []
    for q in questions:
        missing = [g for g in q["gold_article_ids"] if g not in articles]
        if missing:
            problems.append(f"{q['id']}: unknown gold articles {missing}")
            continue
        bodies = [articles[g]["body"].lower() for g in q["gold_article_ids"]]
        for fact in q["facts"]:
            if not fact.strip() or not any(fact.lower() in body for body in bodies):
                problems.append(f"{q['id']}: fact {fact!r} is in none of {q['gold_article_ids']}")
    assert not problems, "\n".join(problems)


def test_every_article_is_gold_for_some_question(
    questions: list[dict[str, Any]], articles: dict[str, dict[str, Any]]
) -> None:
    used = {g for q in questions for g in q["gold_article_ids"]}
    assert set(articles) - used == set()
