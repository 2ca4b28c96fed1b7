"""Evaluation metrics as pure functions over plain data (lists, dicts, strings): no model, no I/O.

Every function here is unit-tested on tiny hand-made inputs (tests/eval/test_metrics.py). The runner
collects per-case records and the aggregate functions at the bottom average them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# --------------------------------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------------------------------


def dedupe(ids: Iterable[str]) -> list[str]:
    """Article ids in first-seen order (several chunks of one article count once)."""
    seen: set[str] = set()
    out: list[str] = []
    for item in ids:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def first_relevant_rank(retrieved: Sequence[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first retrieved article id that is gold, None when none is."""
    gold_set = set(gold)
    for rank, article_id in enumerate(dedupe(retrieved), start=1):
        if article_id in gold_set:
            return rank
    return None


def hit_at_k(retrieved: Sequence[str], gold: Iterable[str], k: int) -> float:
    """1.0 when a gold article is among the first k distinct retrieved articles."""
    rank = first_relevant_rank(retrieved, gold)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(retrieved: Sequence[str], gold: Iterable[str]) -> float:
    rank = first_relevant_rank(retrieved, gold)
    return 0.0 if rank is None else 1.0 / rank


def recall_at_k(retrieved: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Share of the gold articles among the first k distinct retrieved ones (1.0 when there is no gold)."""
    gold_set = set(gold)
    if not gold_set:
        return 1.0
    return len(gold_set & set(dedupe(retrieved)[:k])) / len(gold_set)


# --------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------


def fact_recall(reply: str | None, facts: Sequence[str]) -> float:
    """Share of `facts` that appear in the reply (case-insensitive substring); 1.0 when no facts."""
    if not facts:
        return 1.0
    text = (reply or "").casefold()
    return sum(1 for fact in facts if fact.casefold() in text) / len(facts)


def citation_validity(cited: Sequence[str], retrieved: Sequence[str]) -> float | None:
    """Share of cited article ids that were among the retrieved ones; None when nothing was cited."""
    if not cited:
        return None
    retrieved_set = set(retrieved)
    return sum(1 for article_id in cited if article_id in retrieved_set) / len(cited)


def cites_gold(cited: Sequence[str], gold: Iterable[str]) -> bool | None:
    """Whether at least one citation is a gold article; None when nothing was cited."""
    if not cited:
        return None
    return bool(set(cited) & set(gold))


# Words of a reply that declines to answer or offers a person, in the three languages of the sample shop.
_DECLINE_PATTERNS = [
    r"\bcouldn'?t find\b",
    r"\bcould not find\b",
    r"\bdon'?t know\b",
    r"\bnot sure\b",
    r"\bdon'?t want to guess\b",
    r"\bconnect you with\b",
    r"\b(a|to a) (person|human|member of our team)\b",
    r"\bje ne (trouve|sais)\b",
    r"\bpas trouvé\b",
    r"\bune personne\b",
    r"\bkan .{0,40}niet vinden\b",
    r"\bweet ik niet\b",
    r"\bmet een (persoon|medewerker)\b",
]
_DECLINE_RE = re.compile("|".join(_DECLINE_PATTERNS), re.IGNORECASE)


def is_decline(reply: str | None, citations: Sequence[Any] = (), handover: bool = False) -> bool:
    """The bot declined: a hand-over, or a reply that says it does not know / offers a person, uncited."""
    if handover:
        return True
    if citations:
        return False
    return bool(_DECLINE_RE.search(reply or ""))


def refusal_outcome(answerable: bool, declined: bool) -> str:
    """One of correct_refusal, missed_refusal (answered the unanswerable), false_refusal, answered."""
    if answerable:
        return "false_refusal" if declined else "answered"
    return "correct_refusal" if declined else "missed_refusal"


# --------------------------------------------------------------------------------------------------
# Tool calls and final state
# --------------------------------------------------------------------------------------------------


def subset_match(expected: Any, actual: Any) -> bool:
    """Expected is contained in actual: dicts key by key (recursively), everything else by equality.

    Lists must have the same length and match element-wise after sorting by their JSON text when they
    hold scalars (τ² item id lists are order-free); strings compare case-sensitively.
    """
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return False
        return all(key in actual and subset_match(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return False
        if all(not isinstance(v, (dict, list)) for v in expected + actual):
            return sorted(map(str, expected)) == sorted(map(str, actual))
        return all(subset_match(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, float) or isinstance(actual, float):
        try:
            return math.isclose(float(expected), float(actual), abs_tol=0.005)
        except (TypeError, ValueError):
            return False
    return bool(expected == actual)


def match_tool_calls(
    expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]
) -> tuple[int, list[int]]:
    """Greedy one-to-one matching: an expected call matches an actual call with the same name whose
    arguments contain the expected arguments. Returns (matched count, indices of unmatched expected)."""
    used: set[int] = set()
    missing: list[int] = []
    for index, call in enumerate(expected):
        found = next(
            (
                j
                for j, candidate in enumerate(actual)
                if j not in used
                and candidate.get("name") == call.get("name")
                and subset_match(call.get("arguments") or {}, candidate.get("arguments") or {})
            ),
            None,
        )
        if found is None:
            missing.append(index)
        else:
            used.add(found)
    return len(expected) - len(missing), missing


def tool_call_scores(
    expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]], always_scored: Iterable[str]
) -> dict[str, float | None]:
    """precision, recall (None when undefined) and exact match of the executed calls against the expected.

    recall: share of expected calls (any tool) matched by an executed call. precision: share of the
    executed calls of `always_scored` tools (WRITE tools, transfer to a human) that match an expected
    call: extra look-ups (READ tools) never count against precision, since several read paths lead to
    the same answer, but every unasked-for change does. exact: every expected call matched and no
    unmatched always-scored call.
    """
    # Not executed: a WRITE still waiting for the customer's yes (ok None) or declined by them (rejected).
    executed = [c for c in actual if c.get("ok") is not None and not c.get("rejected")]
    matched, _ = match_tool_calls(expected, executed)
    scored_names = set(always_scored)
    scored = [c for c in executed if c.get("name") in scored_names]
    expected_scored = [c for c in expected if c.get("name") in scored_names]
    scored_matched, _ = match_tool_calls(expected_scored, scored)
    precision = scored_matched / len(scored) if scored else None
    recall = matched / len(expected) if expected else None
    exact = 1.0 if matched == len(expected) and scored_matched == len(scored) else 0.0
    return {"precision": precision, "recall": recall, "exact": exact}


def final_state_mismatches(expected: Mapping[Any, Any], actual: Mapping[str, Any]) -> list[str]:
    """Paths like 'orders.#W1.status' where the actual shop state does not contain the expected values."""
    problems: list[str] = []
    for table, rows in expected.items():
        actual_rows = actual.get(table) or {}
        for row_id, fields in (rows or {}).items():
            row = actual_rows.get(row_id)
            if row is None:
                problems.append(f"{table}.{row_id} (missing)")
                continue
            for key, value in (fields or {}).items():
                if key not in row or not subset_match(value, row[key]):
                    problems.append(f"{table}.{row_id}.{key}: expected {value!r}, got {row.get(key)!r}")
    return problems


# --------------------------------------------------------------------------------------------------
# Takeover (handover to a human)
# --------------------------------------------------------------------------------------------------


def takeover_counts(pairs: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """(expected, actual) takeover per conversation -> precision, recall, tp/fp/fn counts."""
    tp = fp = fn = 0
    for expected, actual in pairs:
        tp += int(expected and actual)
        fp += int(actual and not expected)
        fn += int(expected and not actual)
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "tp": float(tp),
        "fp": float(fp),
        "fn": float(fn),
    }


def takeover_turn_delta(expected_turn: int | None, actual_turn: int | None) -> int | None:
    """Actual minus expected 1-based customer turn of the takeover (positive = late); None if either is."""
    if expected_turn is None or actual_turn is None:
        return None
    return actual_turn - expected_turn


# --------------------------------------------------------------------------------------------------
# Customer effort
# --------------------------------------------------------------------------------------------------

# Slots a customer can give, how to see them in a customer message, and how to see the bot asking for them.
SLOT_GIVEN: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "order_id": re.compile(r"#?W\d{7}\b", re.IGNORECASE),
    "zip": re.compile(r"\b(\d{5}|\d{4} ?[A-Z]{2})\b"),
    "cancel_reason": re.compile(r"no longer need|don'?t need|ordered by mistake|by mistake", re.IGNORECASE),
}
SLOT_ASKED: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(email address|adresse e-mail|e-mailadres)[^.?]*\?|tell me the email", re.I),
    "order_id": re.compile(r"which order|quelle commande|welke bestelling|over welke bestelling", re.I),
    "zip": re.compile(r"zip code on your account|code postal de votre compte|postcode van uw account", re.I),
    "cancel_reason": re.compile(r"why would you like to cancel|pourquoi souhaitez|waarom wilt u", re.I),
}


def slots_given(text: str) -> set[str]:
    return {slot for slot, pattern in SLOT_GIVEN.items() if pattern.search(text or "")}


def slots_asked(reply: str | None) -> set[str]:
    return {slot for slot, pattern in SLOT_ASKED.items() if pattern.search(reply or "")}


def repeated_questions(turns: Sequence[tuple[str, str | None]]) -> list[tuple[int, str]]:
    """(customer text, bot reply) per turn -> [(1-based turn, slot)] where the bot asked for a slot the
    customer had already given in this or an earlier message. An email ask after a failed look-up of
    that email is still counted: the customer experiences it as a repeat."""
    given: set[str] = set()
    repeats: list[tuple[int, str]] = []
    for turn, (customer, reply) in enumerate(turns, start=1):
        given |= slots_given(customer)
        for slot in sorted(slots_asked(reply) & given):
            repeats.append((turn, slot))
    return repeats


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100) of the values; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


# --------------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------------


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the defined values (None ignored); None when nothing is defined."""
    defined = [float(v) for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def pass_hat_k(successes: Sequence[Sequence[bool]], k: int) -> float | None:
    """τ-bench's pass^k: per task, C(c, k) / C(n, k) for c successes out of n trials; averaged."""
    scores = []
    for trials in successes:
        n, c = len(trials), sum(1 for t in trials if t)
        if n < k:
            continue
        scores.append(math.comb(c, k) / math.comb(n, k))
    return sum(scores) / len(scores) if scores else None


def group_mean(records: Sequence[Mapping[str, Any]], key: str, value: str) -> dict[str, float | None]:
    """Mean of `value` per distinct `key` (lists as keys count the record once per element)."""
    groups: dict[str, list[Any]] = {}
    for record in records:
        keys = record.get(key)
        for group in keys if isinstance(keys, list) else [keys]:
            groups.setdefault(str(group), []).append(record.get(value))
    return {group: mean(values) for group, values in sorted(groups.items())}
