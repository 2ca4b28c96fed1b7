"""The sentiment/takeover guard: one call per customer message, before the agent runs.

`SentimentGuard(settings).evaluate(message, history)` returns a `GuardDecision` (pydantic, stored as JSON):
whether to hand the conversation to a person, which trigger fired and why, and every detector's score.
The guard is pure apart from the optional embedding model used to spot repeated requests; it keeps no
state between calls (the history is passed in), so it is safe to share between threads and workers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from assistant.guard import detectors, loops
from assistant.records import GuardDecision, GuardTrigger
from knowledge.language import DEFAULT_LANGUAGE, stopword_language
from knowledge.settings import Settings

log = logging.getLogger(__name__)

Similarity = Callable[[list[str]], np.ndarray]
ModelSentimentFn = Callable[[str, str], float | None]


# Base queue priority per trigger (0..1): a customer threatening to go public or to leave, or swearing,
# is served before one who politely asks for a person. Sentiment then raises it (see _severity).
TRIGGER_SEVERITY: dict[GuardTrigger, float] = {
    GuardTrigger.PUBLIC_COMPLAINT: 0.8,
    GuardTrigger.THREAT_TO_LEAVE: 0.8,
    GuardTrigger.PROFANITY: 0.75,
    GuardTrigger.NEGATIVE_SENTIMENT: 0.65,
    GuardTrigger.SHOUTING: 0.65,
    GuardTrigger.SENTIMENT_TRAJECTORY: 0.6,
    GuardTrigger.BOT_LOOP: 0.6,
    GuardTrigger.BOT_FAILURES: 0.55,
    GuardTrigger.REPEATED_REQUEST: 0.55,
    GuardTrigger.EXPLICIT_REQUEST: 0.5,
}


@dataclass(frozen=True)
class TurnRecord:
    """One earlier turn of the conversation, as the guard needs it."""

    role: Literal["customer", "bot", "agent"]
    text: str
    bot_failed: bool = False  # a bot turn that said it could not help or answer


class GuardInputError(ValueError):
    """The message or history given to the guard is not usable (wrong type); the message says why."""


def handover_message(language: str, expected_wait_minutes: int) -> str:
    """The message shown to the customer at takeover, in their language (English when unknown)."""
    templates = detectors.handover_templates()
    lang = language if language in templates else DEFAULT_LANGUAGE
    minutes = max(1, int(expected_wait_minutes))
    form = "one" if minutes == 1 else "other"
    return templates[lang][form].format(minutes=minutes)


def default_similarity(settings: Settings) -> Similarity:
    """The project's sentence embedder (loaded lazily, on the first repeat check); character trigrams
    when it cannot be imported or loaded, so the guard never fails because a model is missing."""
    state: dict[str, Similarity] = {}

    def encode(texts: list[str]) -> np.ndarray:
        if "fn" not in state:
            try:
                from knowledge.embeddings import get_embedder

                state["fn"] = get_embedder(settings).encode
            except Exception as exc:  # missing module or model: degrade to verbatim repeats
                log.warning("guard: no embedding model (%s); repeats are detected by character trigrams", exc)
                state["fn"] = detectors.char_ngram_vectors
        try:
            return state["fn"](texts)
        except Exception as exc:
            log.warning("guard: embedding failed (%s); using character trigrams for this message", exc)
            return detectors.char_ngram_vectors(texts)

    return encode


class SentimentGuard:
    """Decides, for each customer message, whether a person should take the conversation over."""

    def __init__(
        self,
        settings: Settings,
        similarity: Similarity | None = None,
        model_sentiment: ModelSentimentFn | None = None,
    ) -> None:
        self.settings = settings
        self.similarity = similarity if similarity is not None else default_similarity(settings)
        # (text, language) -> score in [-1, 1] or None; None means: use the lexicon's score.
        self.model_sentiment = model_sentiment

    def evaluate(self, message: str, history: Sequence[TurnRecord]) -> GuardDecision:
        """Score `message` (the newest customer message) given the earlier turns (oldest first)."""
        if not isinstance(message, str):
            raise GuardInputError(f"message must be a string, got {type(message).__name__}")
        if history is None or isinstance(history, str | bytes):
            raise GuardInputError("history must be a list of TurnRecord (oldest first)")
        for turn in history:
            if not isinstance(turn, TurnRecord):
                raise GuardInputError(f"history items must be TurnRecord, got {type(turn).__name__}")
        s = self.settings
        text = message[: detectors.MAX_ANALYSED_CHARS]
        language = stopword_language(text) if text.strip() else DEFAULT_LANGUAGE

        customer_texts = [t.text for t in history if t.role == "customer"]
        lexicon_mood = detectors.sentiment(text, language)
        model_score = self.model_sentiment(text, language) if self.model_sentiment and text.strip() else None
        mood = lexicon_mood
        if model_score is not None:
            mood = dataclasses.replace(lexicon_mood, compound=max(-1.0, min(1.0, float(model_score))))
        earlier_moods = (
            [
                detectors.sentiment(t, stopword_language(t)).compound
                for t in customer_texts[-max(0, s.guard_trajectory_turns - 1) :]
            ]
            if s.guard_trajectory_turns > 1
            else []
        )
        trajectory = detectors.trajectory([*earlier_moods, mood.compound], s.guard_trajectory_turns)
        explicit = detectors.explicit_request(text, language)
        threat = detectors.threat_to_leave(text, language)
        public = detectors.public_complaint(text, language)
        swearing = detectors.profanity(text, language)
        shout = detectors.shouting(text, s.guard_shouting_min_letters)
        failures = detectors.bot_failures_in_a_row(
            [t.bot_failed for t in history if t.role in ("bot", "agent")]
        )
        recent = customer_texts[-s.guard_history_turns :] if s.guard_history_turns > 0 else []
        repeat = self._repeats(text, recent)
        bot_repeats = loops.bot_repeats(history)
        told_repeats = loops.complains_of_repeats(text)

        signals: dict[str, float] = {
            "sentiment": mood.compound,
            "sentiment_base": mood.base,
            **({"sentiment_lexicon": lexicon_mood.compound} if model_score is not None else {}),
            "frustration_markers": float(mood.frustration_markers),
            "sarcasm_markers": float(mood.sarcasm_markers),
            "trajectory_mean": trajectory if trajectory is not None else 0.0,
            "trajectory_turns": float(min(len(earlier_moods) + 1, max(s.guard_trajectory_turns, 1))),
            "explicit_request": explicit.score,
            "threat_to_leave": threat.score,
            "public_complaint": public.score,
            "profanity": swearing.score,
            "upper_ratio": shout.upper_ratio,
            "exclamation_run": float(shout.exclamation_run),
            "repeats": float(repeat.repeats),
            "max_repeat_similarity": round(repeat.max_similarity, 4),
            "bot_failures_in_a_row": float(failures),
            "bot_repeats": float(bot_repeats),
            "customer_says_bot_repeats": float(told_repeats),
        }

        fired: dict[GuardTrigger, str] = {}
        if explicit.hit:
            fired[GuardTrigger.EXPLICIT_REQUEST] = f'asked for a person: "{explicit.matched}"'
        if public.hit:
            fired[GuardTrigger.PUBLIC_COMPLAINT] = f'complaint/public escalation: "{public.matched}"'
        if threat.hit:
            fired[GuardTrigger.THREAT_TO_LEAVE] = f'threat to leave: "{threat.matched}"'
        if swearing.score >= s.guard_profanity_threshold:
            fired[GuardTrigger.PROFANITY] = (
                f"profanity {swearing.score:g} >= {s.guard_profanity_threshold:g} "
                f"({', '.join(swearing.words)})"
            )
        if mood.compound <= s.guard_negative_threshold:
            detail = f"sentiment {mood.compound:+.2f} <= {s.guard_negative_threshold:+.2f}"
            if model_score is not None:
                detail += f" (model; lexicon {lexicon_mood.compound:+.2f}"
            else:
                detail += f" ({'VADER' if language == 'en' else language + ' lexicon'} {mood.base:+.2f}"
            if mood.frustration_markers or mood.sarcasm_markers:
                detail += f"; markers: {', '.join(mood.matched)}"
            fired[GuardTrigger.NEGATIVE_SENTIMENT] = detail + ")"
        if shout.upper_ratio >= s.guard_shouting_ratio:
            fired[GuardTrigger.SHOUTING] = (
                f"upper-case share {shout.upper_ratio:.2f} >= {s.guard_shouting_ratio:.2f} "
                f"over {shout.letters} letters"
            )
        elif shout.exclamation_run >= s.guard_exclamation_run and mood.compound < 0:
            fired[GuardTrigger.SHOUTING] = (
                f"{shout.exclamation_run} exclamation marks in a row in a negative message "
                f"(sentiment {mood.compound:+.2f})"
            )
        if trajectory is not None and trajectory <= s.guard_trajectory_threshold and mood.compound <= 0:
            fired[GuardTrigger.SENTIMENT_TRAJECTORY] = (
                f"mean sentiment of the last {s.guard_trajectory_turns} customer messages "
                f"{trajectory:+.2f} <= {s.guard_trajectory_threshold:+.2f}"
            )
        if s.guard_repeat_count > 0 and repeat.repeats >= s.guard_repeat_count:
            fired[GuardTrigger.REPEATED_REQUEST] = (
                f"same request {repeat.repeats + 1} times (cosine {repeat.max_similarity:.2f} >= "
                f"{s.guard_repeat_similarity:.2f})"
            )
        if bot_repeats + told_repeats >= loops.LOOP_FAILURES_FOR_TAKEOVER:
            fired[GuardTrigger.BOT_LOOP] = (
                f"the bot repeated a reply {bot_repeats} time(s) without progress"
                + ("; the customer says it repeats itself" if told_repeats else "")
            )
        if s.guard_failed_answers > 0 and failures >= s.guard_failed_answers:
            fired[GuardTrigger.BOT_FAILURES] = f"the bot could not help {failures} times in a row"

        if not text.strip():
            fired.clear()  # an empty message carries no signal; loops are judged on the next real one

        ordered = sorted(fired, key=lambda t: (-TRIGGER_SEVERITY[t], list(GuardTrigger).index(t)))
        severity = _severity(ordered, mood.compound)
        if ordered:
            primary = ordered[0]
            reason = f"{primary.value}: {fired[primary]}"
            if len(ordered) > 1:
                reason += "; also " + "; ".join(f"{t.value}: {fired[t]}" for t in ordered[1:])
        else:
            reason = "no trigger" if text.strip() else "no trigger (empty message)"
        return GuardDecision(
            takeover=bool(ordered),
            trigger=ordered[0] if ordered else None,
            reason=reason,
            sentiment=mood.compound,
            severity=severity,
            language=language,
            signals=signals,
            triggers=ordered,
        )

    def _repeats(self, text: str, earlier: list[str]) -> detectors.RepeatResult:
        earlier = [t for t in earlier if t.strip()]
        if not earlier or not text.strip() or self.settings.guard_repeat_count <= 0:
            return detectors.RepeatResult(0, 0.0)
        vectors = np.asarray(self.similarity([*earlier, text]), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(earlier) + 1:
            raise GuardInputError(
                f"similarity returned shape {vectors.shape}, expected ({len(earlier) + 1}, dim)"
            )
        return detectors.repeated_request(vectors, self.settings.guard_repeat_similarity)


def _severity(triggers: list[GuardTrigger], sentiment: float) -> float:
    """Queue priority: the most severe trigger's base, raised by negative sentiment and by every further
    trigger that fired; without a trigger, a small value from sentiment alone (for ordering only)."""
    negativity = max(0.0, -sentiment)
    if not triggers:
        return round(min(0.3, 0.3 * negativity), 4)
    value = TRIGGER_SEVERITY[triggers[0]] + 0.2 * negativity + 0.05 * (len(triggers) - 1)
    return round(min(1.0, value), 4)
