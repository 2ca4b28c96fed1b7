"""Suggested replies judged against what a person would send: the accept-without-edit rate.

For every handed-over conversation that has a reference reply (eval/cases/handover_references.jsonl, next
to the conversation cases: what a human agent would write to the customer at that point), the agent desk's
suggestions (`AgentDesk.suggest`) are compared with the reference. A draft is "accepted without edit" when
it is close in meaning (MiniLM cosine >= ACCEPT_SIMILARITY) and in words (ROUGE-1 F1 of the stemmed words
>= ACCEPT_OVERLAP) to the reference; the conversation counts when its best draft is. Drafts that offer "a
person" (the agent is one) or end mid-sentence are counted too: both must stay at 0.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.planner.words import folded_words, stem
from eval import metrics as m
from knowledge.jsonl import json_lines
from knowledge.language import detect_language

REFERENCES_FILE = "handover_references.jsonl"
ACCEPT_SIMILARITY = 0.7
ACCEPT_OVERLAP = 0.4
_PERSON_OFFER_RE = re.compile(
    r"connect you with|transfer(ring)? you|mettre? en relation|vous transf[eè]re|"
    r"doorverbinden|verbind u door",
    re.I,
)
_LINK_RE = re.compile(r"https?://\S+")


def load_references(case_paths: list[Path]) -> dict[str, dict[str, str]]:
    """conversation id -> {"reference", "locale"} from the references file beside each case file."""
    found: dict[str, dict[str, str]] = {}
    for folder in {p.parent for p in case_paths}:
        path = folder / REFERENCES_FILE
        if path.is_file():
            for _, record in json_lines(path.read_text(encoding="utf-8").splitlines()):
                found[str(record["conversation"])] = {
                    "reference": str(record["reference"]),
                    "locale": str(record.get("locale", "en")),
                }
    return found


def word_overlap(draft: str, reference: str, language: str) -> float:
    """ROUGE-1 F1 of a draft and the reference: shared words, folded and stemmed, counted with repeats."""
    a = Counter(stem(w, language) for w in folded_words(_LINK_RE.sub("", draft)))
    b = Counter(stem(w, language) for w in folded_words(reference))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def is_fragment(text: str) -> bool:
    body = _LINK_RE.sub("", text).strip()
    return not body or not re.search(r"[.!?)\"']$", body) or bool(re.search(r"\[\d+\]\s*$", body))


def judge_drafts(service: Any, conversation_id: str, reference: dict[str, str]) -> dict[str, Any]:
    """The desk's drafts for a handed-over conversation, scored against the reference reply."""
    from assistant.desk import AgentDesk

    drafts = [s.draft_text for s in AgentDesk(service).suggest(conversation_id, "eval-agent")]
    language = reference.get("locale") or detect_language(reference["reference"])
    record: dict[str, Any] = {"drafts": drafts, "reference": reference["reference"]}
    if not drafts:
        return record | {
            "similarity": 0.0,
            "overlap": 0.0,
            "accepted": False,
            "person_offers": 0,
            "fragments": 0,
        }
    vectors = service.parts.encoder([reference["reference"], *[_LINK_RE.sub("", d) for d in drafts]])
    similarities = [float(v) for v in vectors[1:] @ vectors[0]]
    overlaps = [word_overlap(d, reference["reference"], language) for d in drafts]
    accepted = [
        s >= ACCEPT_SIMILARITY and o >= ACCEPT_OVERLAP for s, o in zip(similarities, overlaps, strict=True)
    ]
    best = max(range(len(drafts)), key=lambda i: (accepted[i], similarities[i] + overlaps[i]))
    return record | {
        "similarity": round(similarities[best], 4),
        "overlap": round(overlaps[best], 4),
        "accepted": accepted[best],
        "person_offers": sum(1 for d in drafts if _PERSON_OFFER_RE.search(d)),
        "fragments": sum(1 for d in drafts if is_fragment(d)),
    }


def draft_metrics(conversations: list[dict[str, Any]]) -> dict[str, float | None]:
    judged = [c["drafts"] for c in conversations if c.get("drafts")]
    if not judged:
        return {}
    return {
        "drafts.count": float(len(judged)),
        "drafts.accept_without_edit_rate": m.mean(d["accepted"] for d in judged),
        "drafts.similarity_mean": m.mean(d["similarity"] for d in judged),
        "drafts.word_overlap_mean": m.mean(d["overlap"] for d in judged),
        "drafts.person_offers": float(sum(d["person_offers"] for d in judged)),
        "drafts.fragments": float(sum(d["fragments"] for d in judged)),
    }
