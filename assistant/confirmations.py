"""Whether a customer's answer to "Shall I go ahead?" is an explicit yes, a no, or something else."""

from __future__ import annotations

_YES = {
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "correct",
    "proceed",
    "oui",
    "ja",
    "graag",
    "akkoord",
    "prima",
    "absolutely",
    "definitely",
}
_YES_PHRASES = (
    "go ahead",
    "please do",
    "do it",
    "that's right",
    "yes please",
    "d'accord",
    "allez-y",
    "vas-y",
    "c'est bon",
    "ga je gang",
    "doe maar",
    "is goed",
    "klopt",
)
_NO = {"no", "n", "nope", "nah", "non", "nee", "don't", "dont", "stop", "wait", "cancel"}
_HEDGES = ("but", "wait", "not", "mais", "pas", "maar", "niet", "actually", "instead", "?")


def classify_confirmation(text: str) -> str:
    """'yes' only for an explicit yes without a hedge; 'no' for a refusal; 'other' for anything else."""
    lowered = text.lower().strip()
    tokens = [t.strip(".,!;:") for t in lowered.split()]
    if not tokens:
        return "other"
    hedged = any(h in lowered for h in _HEDGES)
    if tokens[0] in _NO or lowered in {
        "no thanks",
        "no thank you",
        "non merci",
        "nee dank je",
        "nee bedankt",
    }:
        return "no"
    if (
        not hedged
        and len(tokens) <= 8
        and (tokens[0] in _YES or any(lowered.startswith(p) for p in _YES_PHRASES))
    ):
        return "yes"
    return "other"
