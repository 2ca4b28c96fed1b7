"""eval.metrics on tiny hand-made inputs."""

from __future__ import annotations

import pytest

from eval import metrics as m


def test_retrieval_ranks_count_articles_once() -> None:
    retrieved = ["a", "a", "b", "c"]
    assert m.first_relevant_rank(retrieved, ["c"]) == 3  # two chunks of "a" are one article
    assert m.hit_at_k(retrieved, ["c"], 1) == 0.0
    assert m.hit_at_k(retrieved, ["c"], 3) == 1.0
    assert m.reciprocal_rank(retrieved, ["b", "c"]) == pytest.approx(0.5)
    assert m.reciprocal_rank(retrieved, ["z"]) == 0.0
    assert m.recall_at_k(retrieved, ["a", "c", "z"], 2) == pytest.approx(1 / 3)
    assert m.recall_at_k([], [], 5) == 1.0


def test_fact_recall_is_case_insensitive_substring() -> None:
    assert m.fact_recall("Delivery takes 4 to 6 Business Days.", ["4 to 6 business days", "free"]) == 0.5
    assert m.fact_recall(None, ["x"]) == 0.0
    assert m.fact_recall("anything", []) == 1.0


def test_citations() -> None:
    assert m.citation_validity(["a", "x"], ["a", "b"]) == 0.5
    assert m.citation_validity([], ["a"]) is None
    assert m.cites_gold(["a"], ["a", "b"]) is True
    assert m.cites_gold(["c"], ["a"]) is False
    assert m.cites_gold([], ["a"]) is None


@pytest.mark.parametrize(
    ("reply", "citations", "handover", "declined"),
    [
        ("I'm sorry, I couldn't find that in our help centre.", [], False, True),
        ("Would you like me to connect you with a person?", [], False, True),
        ("Je ne trouve pas cette information.", [], False, True),
        ("Ik kan dat niet vinden in ons helpcentrum.", [], False, True),
        ("Shipping takes 4 to 6 business days [1].", [{"ref": 1}], False, False),
        ("I couldn't find order #W1 but here is the policy [1]", [{"ref": 1}], False, False),
        ("Anything at all", [], True, True),
        ("Standard shipping is free above $50.", [], False, False),
    ],
)
def test_is_decline(reply: str, citations: list[dict[str, int]], handover: bool, declined: bool) -> None:
    assert m.is_decline(reply, citations, handover) is declined


def test_refusal_outcome_covers_the_four_cells() -> None:
    assert m.refusal_outcome(False, True) == "correct_refusal"
    assert m.refusal_outcome(False, False) == "missed_refusal"
    assert m.refusal_outcome(True, True) == "false_refusal"
    assert m.refusal_outcome(True, False) == "answered"


def test_subset_match() -> None:
    assert m.subset_match({"a": 1}, {"a": 1, "b": 2})
    assert not m.subset_match({"a": 1, "c": 3}, {"a": 1})
    assert m.subset_match({"ids": ["2", "1"]}, {"ids": ["1", "2"]})  # id lists are order-free
    assert not m.subset_match({"ids": ["1"]}, {"ids": ["1", "2"]})
    assert m.subset_match({"x": {"y": "z"}}, {"x": {"y": "z", "w": 1}})
    assert m.subset_match(1.0, 1.004)
    assert not m.subset_match("1", 1.5)


def test_tool_call_scores_ignore_extra_reads_but_not_extra_writes() -> None:
    always = {"cancel_pending_order"}
    expected = [
        {"name": "find_user_id_by_email", "arguments": {"email": "e@x.com"}},
        {"name": "cancel_pending_order", "arguments": {"order_id": "#W1", "reason": "no longer needed"}},
    ]
    actual = [
        {"name": "find_user_id_by_email", "arguments": {"email": "e@x.com"}, "ok": True},
        {"name": "get_order_details", "arguments": {"order_id": "#W1"}, "ok": True},
        {"name": "get_order_details", "arguments": {"order_id": "#W2"}, "ok": True},
        {
            "name": "cancel_pending_order",
            "arguments": {"order_id": "#W1", "reason": "no longer needed"},
            "ok": True,
        },
    ]
    assert m.tool_call_scores(expected, actual, always) == {"precision": 1.0, "recall": 1.0, "exact": 1.0}
    wrong_write = [*actual, {"name": "cancel_pending_order", "arguments": {"order_id": "#W2"}, "ok": False}]
    assert m.tool_call_scores(expected, wrong_write, always) == {
        "precision": 0.5,
        "recall": 1.0,
        "exact": 0.0,
    }
    pending_only = [c | {"ok": None} if c["name"] == "cancel_pending_order" else c for c in actual]
    scores = m.tool_call_scores(expected, pending_only, always)  # an unconfirmed write did not run
    assert scores == {"precision": None, "recall": 0.5, "exact": 0.0}
    declined = [*actual[:3], actual[3] | {"ok": False, "rejected": True}]  # the customer said "no"
    assert m.tool_call_scores(expected[:1], declined, always) == {
        "precision": None,
        "recall": 1.0,
        "exact": 1.0,
    }
    assert m.tool_call_scores([], [], always) == {"precision": None, "recall": None, "exact": 1.0}


def test_match_tool_calls_is_one_to_one() -> None:
    expected = [{"name": "t", "arguments": {}}, {"name": "t", "arguments": {}}]
    matched, missing = m.match_tool_calls(expected, [{"name": "t", "arguments": {"a": 1}}])
    assert (matched, missing) == (1, [1])


def test_final_state_mismatches() -> None:
    actual = {"orders": {"#W1": {"status": "cancelled", "address": {"zip": "1", "city": "X"}}}, "users": {}}
    assert m.final_state_mismatches({"orders": {"#W1": {"status": "cancelled"}}}, actual) == []
    assert m.final_state_mismatches({"orders": {"#W1": {"address": {"zip": "1"}}}}, actual) == []
    problems = m.final_state_mismatches(
        {"orders": {"#W1": {"status": "pending"}, "#W9": {}}, "users": {"u": {}}}, actual
    )
    assert problems == [
        "orders.#W1.status: expected 'pending', got 'cancelled'",
        "orders.#W9 (missing)",
        "users.u (missing)",
    ]


def test_takeover_counts_and_turn_delta() -> None:
    counts = m.takeover_counts([(True, True), (True, False), (False, True), (False, False)])
    assert counts["precision"] == 0.5 and counts["recall"] == 0.5
    assert m.takeover_counts([(False, False)])["precision"] is None
    assert m.takeover_turn_delta(2, 3) == 1
    assert m.takeover_turn_delta(None, 3) is None


def test_repeated_questions_detects_asks_for_given_slots() -> None:
    turns = [
        ("I want to cancel #W1000001, my email is emma@example.com", "Which order is this about?"),
        ("the one I said", "Please tell me the email address on your account?"),
        ("ok", "Thanks. What is the zip code on your account?"),
    ]
    assert m.repeated_questions(turns) == [(1, "order_id"), (2, "email")]
    assert m.repeated_questions([("hi", "Which order is this about?")]) == []
    assert m.slots_given("Laurent, zip 97205") == {"zip"}
    assert m.slots_given("Amsterdam 1012 AB") == {"zip"}


def test_percentile_mean_pass_hat_k_group_mean() -> None:
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile([10], 95) == 10
    assert m.percentile([], 50) is None
    assert m.mean([1, None, 0, True]) == pytest.approx(2 / 3)
    assert m.mean([None]) is None
    # Task 1: 2 of 3 trials pass; task 2: 3 of 3. pass^1 = (2/3 + 1) / 2; pass^2 = (1/3 + 1) / 2.
    trials = [[True, True, False], [True, True, True]]
    assert m.pass_hat_k(trials, 1) == pytest.approx(5 / 6)
    assert m.pass_hat_k(trials, 2) == pytest.approx(2 / 3)
    assert m.pass_hat_k(trials, 4) is None
    records = [{"tags": ["a", "b"], "v": 1.0}, {"tags": ["a"], "v": 0.0}]
    assert m.group_mean(records, "tags", "v") == {"a": 0.5, "b": 1.0}


def test_breakdown_per_language_and_split_and_bot_loops() -> None:
    from eval.breakdown import bot_loops, conversation_breakdown, question_breakdown

    def q(locale: str, split: str, answerable: bool, passed: bool) -> dict[str, object]:
        refusal = (
            ("answered" if passed else "false_refusal")
            if answerable
            else ("correct_refusal" if passed else "missed_refusal")
        )
        return {
            "locale": locale,
            "split": split,
            "answerable": answerable,
            "passed": passed,
            "refusal": refusal,
            "fact_recall": 1.0 if passed else 0.0,
            "tags": [],
        }

    metrics = question_breakdown(
        [q("fr", "dev", True, True), q("fr", "test", False, False), q("en", "test", True, False)]
    )
    assert metrics["questions.fr.pass_rate"] == 0.5 and metrics["questions.fr.correct_refusal_rate"] == 0.0
    assert metrics["questions.test.false_refusal_rate"] == 1.0 and metrics["questions.dev.count"] == 1.0
    loop = [{"bot": "Same answer here [1]."}, {"bot": "Same answer here [2]."}]
    assert bot_loops(loop) == 1 and bot_loops(loop[:1]) == 0
    conversation = {
        "tags": ["nl"],
        "passed": True,
        "expected_takeover": False,
        "takeover": False,
        "transcript": loop,
    }
    out = conversation_breakdown([conversation])
    assert out["conversations.bot_loops"] == 1.0 and out["conversations.nl.pass_rate"] == 1.0
