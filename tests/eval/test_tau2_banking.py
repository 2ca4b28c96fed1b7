"""How the τ² banking searches are built from a task's user instructions, and how their hits are fused
per article (pure functions: no index, no dataset)."""

from __future__ import annotations

from typing import Any

from eval.retrievers import fuse_articles, search_fused
from eval.tau2 import banking_queries, banking_query, banking_sentences

INSTRUCTIONS = """**Your character:** You are Liang Jinhai, a 23-year-old tech professional from Chicago, IL.

**Your situation:** You have a Bluest Account and a Light Green Account. Some ATM fees look wrong to you.

**Verification info:**
- Name: Liang Jinhai | Phone: 312-555-0847 | Email: jinhai.liang@example.com
- DOB: 04/12/2002 | Address: 1420 Lake Shore Drive, Chicago, IL 60610

## Conversation Flow:

1. **Opening:** "Hi, something seems off with my ATM fees in November."

2. Yes.

You are currently on the line with a customer support agent. Never respond as a customer service agent."""


def task(instructions: str = INSTRUCTIONS) -> dict[str, Any]:
    return {"id": "t1", "user_scenario": {"instructions": instructions}, "required_documents": ["d1"]}


def test_sentences_lose_markdown_identity_lines_boilerplate_and_fragments() -> None:
    sentences = banking_sentences(task())
    assert "Your situation: You have a Bluest Account and a Light Green Account." in sentences
    assert "Some ATM fees look wrong to you." in sentences
    assert 'Opening: "Hi, something seems off with my ATM fees in November."' in sentences
    joined = " ".join(sentences)
    assert "312-555-0847" not in joined and "Lake Shore" not in joined  # identity lines are data, no need
    assert "**" not in joined and "##" not in joined
    assert "on the line with" not in joined and "Never respond" not in joined  # role-play boilerplate
    assert all(len(s) > 20 for s in sentences)  # "2. Yes." and "Conversation Flow:" are fragments
    assert "Conversation Flow:" not in sentences


def test_sentences_are_kept_once_and_in_order() -> None:
    text = "You want to close your savings account today.\nYou want to close your savings account today."
    assert banking_sentences(task(text)) == ["You want to close your savings account today."]


def test_the_need_query_comes_first_then_each_sentence() -> None:
    queries = banking_queries(task())
    assert queries[0] == banking_query(task())
    assert queries[1:] == [s for s in banking_sentences(task()) if s != queries[0]]
    assert len(queries) == len(set(queries))


def test_a_task_without_instructions_has_no_searches() -> None:
    assert banking_queries({"id": "t0", "user_scenario": None}) == []


def test_fusion_counts_an_article_once_per_ranking_and_rewards_agreement() -> None:
    # "b" is second in both rankings, "a" and "c" first in one each: agreement wins (2/62 > 1/61).
    assert fuse_articles([["a", "b", "a"], ["c", "b"]]) == ["b", "a", "c"]
    # a repeated article (two chunks of it) does not count twice within one ranking
    assert fuse_articles([["a", "a", "a", "b"], ["b"]]) == ["b", "a"]
    assert fuse_articles([]) == []


def test_fusion_ties_keep_the_order_of_first_appearance() -> None:
    assert fuse_articles([["x"], ["y"], ["z"]]) == ["x", "y", "z"]


class Hit:
    def __init__(self, article_id: str) -> None:
        self.article_id = article_id


class FakeRetriever:
    """Answers each query with fixed article ids and records what it was asked."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    def search(self, query: str, k: int = 5) -> list[Hit]:
        self.asked.append((query, k))
        return [Hit(a) for a in self.answers.get(query, [])[:k]]


def test_search_fused_runs_every_query_with_k_and_fuses_their_articles() -> None:
    retriever = FakeRetriever({"fees": ["atm", "fees-faq"], "bluest": ["bluest", "atm"], "none": []})
    assert search_fused(retriever, ["fees", "bluest", "none"], k=2) == ["atm", "bluest", "fees-faq"]
    assert retriever.asked == [("fees", 2), ("bluest", 2), ("none", 2)]
