"""An optional LLM judge of answer correctness and tone (only with a model configured: provider openai).

It complements the string metrics (fact recall, refusals), which cannot tell a paraphrased fact from a
missing one. The verdict is a typed object; a reply that is not the asked-for JSON is counted as a judge
error, never guessed at. Scores are reported as means on 0..1 ((score - 1) / 4), not gated by default.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel, Field, ValidationError

MAX_PASSAGE_CHARS = 1200
_JSON_RE = re.compile(r"\{.*\}", re.S)


class JudgeUnavailable(RuntimeError):
    """No capable model is configured for the judge."""


@dataclass(frozen=True)
class JudgedAnswer:
    """What the judge sees of one single-question case."""

    question: str
    reply: str
    facts: list[str]
    passages: list[str]
    answerable: bool = True
    language: str = "en"


class JudgeVerdict(BaseModel):
    correctness: int = Field(ge=1, le=5)
    tone: int = Field(ge=1, le=5)
    reason: str = ""


def load_judge_prompt() -> str:
    return resources.files("eval.prompts").joinpath("judge.md").read_text("utf-8")


def parse_verdict(text: str) -> JudgeVerdict | None:
    """The JSON object in the model's reply, validated; None when there is none or it is out of range."""
    match = _JSON_RE.search(text or "")
    if match is None:
        return None
    try:
        return JudgeVerdict.model_validate(json.loads(match.group(0)))
    except (ValueError, ValidationError):
        return None


class AnswerJudge:
    """Grades replies with the configured OpenAI-compatible model, at temperature 0."""

    def __init__(self, settings: Any) -> None:
        if settings.effective_llm_provider != "openai":
            raise JudgeUnavailable("the LLM judge needs PARLEY_LLM_BASE_URL (provider openai)")
        from eval.simulator import openai_client

        self.client = openai_client(settings)
        self.model = settings.llm_model
        self.template = load_judge_prompt()

    def prompt(self, answer: JudgedAnswer) -> str:
        listed = "\n".join(f"[{i}] {p[:MAX_PASSAGE_CHARS]}" for i, p in enumerate(answer.passages, 1))
        return self.template.format(
            question=answer.question,
            reply=answer.reply or "(no reply)",
            facts="; ".join(answer.facts) or "(none listed)",
            passages=listed or "(none)",
            answerable="answerable"
            if answer.answerable
            else "unanswerable: the help centre does not cover it",
            language=answer.language,
        )

    def judge(self, answer: JudgedAnswer) -> dict[str, Any]:
        """{"correctness", "tone", "reason"} or {"error": ...}; a failed call is an error, not a score."""
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=[
                    {
                        "role": "user",
                        "content": self.prompt(answer),
                    }
                ],
                temperature=0.0,
            )
        except Exception as exc:  # openai.APIError and transport errors: the run goes on
            return {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        text = response.choices[0].message.content or ""
        verdict = parse_verdict(text)
        if verdict is None:
            return {"error": f"not a verdict: {text[:200]!r}"}
        return verdict.model_dump()


def judge_metrics(questions: list[dict[str, Any]]) -> dict[str, float | None]:
    """Means of the judged questions on 0..1, and how many could not be judged."""
    judged = [q["judge"] for q in questions if isinstance(q.get("judge"), dict)]
    if not judged:
        return {}
    good = [j for j in judged if "error" not in j]

    def scaled(key: str) -> float | None:
        return sum((j[key] - 1) / 4 for j in good) / len(good) if good else None

    return {
        "judge.correctness": scaled("correctness"),
        "judge.tone": scaled("tone"),
        "judge.errors": float(len(judged) - len(good)),
    }
