"""The guard's detectors: pure functions from a message (and its history) to scores.

Every detector is deterministic and cheap (regular expressions and word lists, VADER for English
sentiment); only the repeat detector needs vectors, and it takes them as an argument. The word lists live
in `assistant/guard/lexicons/` as data files; the request/threat/complaint patterns live here because they
are logic (word order, request context), not lists.

All text matching runs on `fold(text)`: lower case, accents removed, curly apostrophes straightened, so
"Je veux parler à quelqu'un" and "je veux parler a quelqu’un" are the same string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import numpy as np

from knowledge.language import (
    LANGUAGES,
    MAX_ANALYSED_CHARS,
    data_lines,
    fold,
    tokens,
)

# --------------------------------------------------------------------------------------------------
# Lexicon loading (package data)
# --------------------------------------------------------------------------------------------------


def _data_lines(name: str) -> list[list[str]]:
    return data_lines("assistant.guard.lexicons", name)


@dataclass(frozen=True)
class WordScores:
    """Exact words and prefixes (entries ending in `*`) with a score."""

    exact: dict[str, float]
    prefixes: tuple[tuple[str, float], ...]  # longest first

    def lookup(self, token: str) -> float | None:
        if token in self.exact:
            return self.exact[token]
        for prefix, score in self.prefixes:
            if token.startswith(prefix):
                return score
        return None


def _word_scores(rows: list[list[str]]) -> WordScores:
    exact: dict[str, float] = {}
    prefixes: list[tuple[str, float]] = []
    for row in rows:
        word, score = fold(row[0]), float(row[1])
        if word.endswith("*"):
            prefixes.append((word[:-1], score))
        else:
            exact[word] = score
    prefixes.sort(key=lambda p: -len(p[0]))
    return WordScores(exact, tuple(prefixes))


@cache
def sentiment_lexicon(language: str) -> WordScores:
    return _word_scores(_data_lines(f"sentiment_{language}.txt"))


@cache
def english_corrections() -> dict[str, float]:
    return {fold(row[0]): float(row[1]) for row in _data_lines("sentiment_en_extra.txt")}


@cache
def markers(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(kind, pattern) pairs: frustration and sarcasm phrases matched on word boundaries."""
    out = []
    for row in _data_lines(f"markers_{language}.txt"):
        kind, phrase = row[0], fold(row[1])
        out.append((kind, re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")))
    return tuple(out)


@dataclass(frozen=True)
class ProfanityEntry:
    pattern: re.Pattern[str]
    weight: float
    language: str
    strict: bool  # counts only when the message is in this list's language


@cache
def profanity_entries() -> tuple[ProfanityEntry, ...]:
    entries = []
    for language in LANGUAGES:
        for row in _data_lines(f"profanity_{language}.txt"):
            word = fold(row[0])
            weight = float(row[1])
            strict = len(row) > 2 and row[2] == "strict"
            body = re.escape(word[:-1]) + r"\w*" if word.endswith("*") else re.escape(word)
            pattern = re.compile(r"(?<!\w)" + body + r"(?!\w)")
            entries.append(ProfanityEntry(pattern, weight, language, strict))
    return tuple(entries)


@cache
def handover_templates() -> dict[str, dict[str, str]]:
    text = resources.files("assistant.guard.lexicons").joinpath("handover.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


# --------------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# Sentiment
# --------------------------------------------------------------------------------------------------

_NEGATIONS = {
    "fr": frozenset({"pas", "jamais", "rien", "aucun", "aucune", "sans", "ni", "personne"}),
    "nl": frozenset({"niet", "geen", "nooit", "niks", "niets", "zonder"}),
}
_BOOSTERS = {
    "fr": frozenset(
        {
            "tres",
            "vraiment",
            "trop",
            "tellement",
            "completement",
            "totalement",
            "absolument",
            "si",
            "super",
            "extremement",
            "hyper",
        }
    ),
    "nl": frozenset(
        {
            "heel",
            "erg",
            "echt",
            "zo",
            "zeer",
            "ontzettend",
            "super",
            "totaal",
            "compleet",
            "ronduit",
            "enorm",
            "hartstikke",
        }
    ),
}
_VADER_NEGATION_SCALAR = -0.74  # VADER's own factors, so scores of all three languages are comparable
_VADER_BOOST = 0.293
_VADER_ALPHA = 15.0


@lru_cache(maxsize=1)
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(english_corrections())  # this instance only; VADER's module stays untouched
    return analyzer


def vader_compound(text: str) -> float:
    analyzer = _vader()
    scores: dict[str, float] = analyzer.polarity_scores(text)  # type: ignore[attr-defined]
    return float(scores["compound"])


def _normalise(total: float) -> float:
    return total / math.sqrt(total * total + _VADER_ALPHA)


def lexicon_compound(text: str, language: str) -> float:
    """VADER-like compound score in [-1, 1] for French or Dutch from the small package lexicons."""
    lexicon = sentiment_lexicon(language)
    negations = _NEGATIONS.get(language, frozenset())
    boosters = _BOOSTERS.get(language, frozenset())
    total = 0.0
    # Negation stops at punctuation: in "pas de problème, merci" the "pas" does not reach "merci".
    for clause in re.split(r"[,.;:!?]+", fold(text)):
        total += _clause_score(tokens(clause), language, lexicon, negations, boosters)
    if total:
        total += math.copysign(0.292 * min(text.count("!"), 4), total)
    return _normalise(total) if total else 0.0


def _clause_score(
    toks: list[str], language: str, lexicon: WordScores, negations: frozenset[str], boosters: frozenset[str]
) -> float:
    total = 0.0
    for i, tok in enumerate(toks):
        value = lexicon.lookup(tok)
        if value is None:
            continue
        if i > 0 and toks[i - 1] in boosters:
            value += math.copysign(_VADER_BOOST, value)
        window = toks[max(0, i - 3) : i]
        negated = any(t in negations for t in window)
        # French "ne ... plus" negates ("je ne suis plus content"); a bare "plus" means "more".
        if language == "fr" and "plus" in window and ("ne" in window or "n" in window):
            negated = True
        if negated:
            value *= _VADER_NEGATION_SCALAR
        total += value
    return total


@dataclass(frozen=True)
class SentimentResult:
    compound: float  # the guard's score: base adjusted by frustration and sarcasm markers
    base: float  # VADER (en) or the lexicon score (fr/nl)
    frustration_markers: int
    sarcasm_markers: int
    matched: tuple[str, ...]


_FRUSTRATION_STEP = 0.45  # each "how many times" / "toujours pas" pushes the score this much down


def sentiment(text: str, language: str) -> SentimentResult:
    text = text[:MAX_ANALYSED_CHARS]
    base = vader_compound(text) if language == "en" else lexicon_compound(text, language)
    folded = fold(text)
    frustration = sarcasm = 0
    matched: list[str] = []
    # English markers also apply to fr/nl messages: "thanks for nothing" is common in any chat.
    marker_langs = {language, "en"}
    for lang in sorted(marker_langs):
        for kind, pattern in markers(lang):
            if pattern.search(folded):
                matched.append(pattern.pattern)
                if kind == "sarcasm":
                    sarcasm += 1
                else:
                    frustration += 1
    score = base
    if sarcasm:
        # Sarcasm reads as praise to a lexicon; a sarcastic "great" is at least mildly negative, and
        # the sarcasm itself is frustration on top ("thanks for nothing" is never neutral).
        score = -max(abs(score), 0.3)
    score -= _FRUSTRATION_STEP * (frustration + sarcasm)
    score = max(-1.0, min(1.0, score))
    return SentimentResult(
        round(score, 4), round(base, 4), frustration, sarcasm, tuple(_readable(p) for p in matched)
    )


def _readable(pattern: str) -> str:
    return pattern.removeprefix(r"(?<!\w)").removesuffix(r"(?!\w)").replace("\\", "")


def trajectory(scores: Sequence[float], turns: int) -> float | None:
    """Mean compound of the last `turns` customer messages, or None while there are fewer."""
    if turns <= 0 or len(scores) < turns:
        return None
    window = scores[-turns:]
    return float(sum(window) / len(window))


# --------------------------------------------------------------------------------------------------
# Pattern detectors: explicit request, threat to leave, public/formal complaint
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternHit:
    score: float  # 1.0 when a pattern matched, else 0.0
    matched: str  # the matched text ("" when none)

    @property
    def hit(self) -> bool:
        return self.score > 0


def _first_match(patterns: Sequence[re.Pattern[str]], folded: str) -> PatternHit:
    for pattern in patterns:
        m = pattern.search(folded)
        if m:
            return PatternHit(1.0, m.group(0).strip())
    return PatternHit(0.0, "")


def _c(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.VERBOSE)


# English: a person noun, only after a contact verb and a request cue, so "my travel agent", "agent
# orange" and "a human-made product" never match. Past tense ("I talked to an agent") is not a request.
_EN_PERSON = r"""
    (?:(?:a|an|the|some|your|one\ of\ your|any|to)\s+)?
    (?:(?:real|actual|live|human|physical|living|breathing|customer[-\ ]service|customer[-\ ]support|support
        |service|real[-\ ]life|proper|competent|senior|bloody|damn|freaking|fucking|goddamn)\s+){0,2}
    (?:person|people|human(?:\s+being)?s?|agent|representative|rep|operator|someone|somebody|anyone|anybody
       |supervisor|manager|employee|staff(?:\s+member)?|assistant|advisor|adviser|colleague|team\ member
       |customer\ service|customer\ support)
    (?!-|\w|\s+(?:orange|smith|provocateur|of\ change))
"""
_EN_CONTACT_VERB = r"""(?:talk|talking|speak|speaking|chat|chatting|connect|connecting|transfer|transferring
    |contact|contacting|reach|reaching|get\ hold\ of|get\ through\ to|escalate|escalating|call|calling|phone
    |ring|deal\ with|put\ me\ through|pass\ me|hand\ me\ over)"""
_EN_REQUEST_CUE = r"""(?:want|wanna|need|needs|would\ like|'d\ like|d\ like|like\ to|let\ me|can\ i|could\ i
    |may\ i|can\ you|could\ you|how\ (?:do|can|could)\ i|how\ to|help\ me|assistance|help|please|pls
    |have\ to|has\ to|must|gotta|got\ to|trying\ to|tryto|try\ to|tried\ to|cannot|can't|cant|unable\ to
    |don't\ know\ how|dont\ know\ how|do\ not\ know|possible\ to|is\ there|where|demand|insist|give\ me
    |connect\ me|transfer\ me|put\ me|get\ me|i'd|i\ would|hep|assist|to)"""
EXPLICIT_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "en": (
        _c(
            rf"\b{_EN_REQUEST_CUE}\b[^.!?]{{0,40}}?\b{_EN_CONTACT_VERB}\b\s*(?:(?:me|us)\s+)?(?:(?:to|with)\s+)?{_EN_PERSON}"
        ),
        _c(rf"^\W*{_EN_CONTACT_VERB}\s+(?:(?:to|with)\s+)?{_EN_PERSON}"),
        _c(r"""\b(?:want|wanna|need|demand|get\ me|give\ me|i'd\ like|i\ would\ like|bring\ me)\s+(?:a|an|the
            |some|your|to\ see\ a)?\s*(?:real\ person|real\ human|human\ being|human\ agent
            |live\ agent|live\ person
            |actual\ person|human|representative|supervisor|manager|operator|person|real\ agent)\b(?!-)"""),
        _c(r"""^\W*(?:an?\s+|the\s+)?(?:human|agent|representative|rep|operator|real\ person|live\ agent
            |human\ agent|person|customer\ service|supervisor|manager|someone\ real)
            \W*(?:please|pls|plz|now|asap|right\ now)?\W*$"""),
        _c(r"""\bis\ there\s+(?:a|an|any|some)?\s*(?:real\ |actual\ |live\ )?(?:human|person|someone|somebody
            |anyone|anybody|agent)\s+(?:who|that|i\ can|to|there|available|on)"""),
        _c(
            r"\b(?:stop|no\s+more)\s+(?:the\s+)?(?:bot|robot|machine|automated)\b[^.!?]{0,30}\b(?:human|person|someone)"
        ),
        _c(
            r"\b(?:call|ring|phone)\s+me\s+back\b|\bcallback\s+(?:please|request)|\brequest\s+a\s+call\s?back"
        ),
        # "I want someone from billing to look at it": a person of a team, or a person to handle it.
        _c(r"""\b(?:want|wanna|need|would\ like|'d\ like|get|have)\s+(?:someone|somebody|a\ person|a\ human
            |a\ real\ person)\s+(?:from\s+(?:your\s+|the\s+)?(?:billing|accounts?|finance|support
            |customer\ service|team)\b|(?:to\s+)?(?:look\ at|look\ into|check|review|handle|deal\ with
            |sort\ out)\b)"""),
    ),
    "fr": (
        _c(r"""\b(?:parler|discuter|echanger|dialoguer|joindre|contacter|avoir|passez[-\ ]moi|passer
            |mettez[-\ ]moi\ en\ (?:relation|contact)\ avec|mettre\ en\ (?:relation|contact)\ avec
            |transferez[-\ ]moi|transferer|etre\ mis\ en\ relation\ avec|mis\ en\ relation\ avec)\s+
            (?:(?:a|avec|au|aupres\ d)\s*)?(?:un|une|le|la|l|des|quelqu'un|qqn|votre|vos)?\s*
            (?:(?:vrai|vraie|veritable|vrais)\s+)?
            (?:personne|humain|etre\ humain|conseiller|conseillere|agent(?!\ immobilier
            |\ de\ voyage)|operateur
            |operatrice|responsable|employe|interlocuteur|quelqu'un|qqn|technicien|superviseur|service\ client
            |chef|manager|humaine)\b(?!\ de\ livraison)"""),
        _c(r"""\b(?:je\ veux|je\ voudrais|j'aimerais|je\ souhaite|je\ demande|il\ me\ faut|donnez[-\ ]moi)\s+
            (?:un|une|a|avec)?\s*(?:vrai\ |vraie\ |veritable\ )?(?:humain|etre\ humain|personne\ reelle
            |vraie\ personne|conseiller|conseillere|operateur|responsable|interlocuteur)\b"""),
        _c(r"\bune?\s+(?:vraie?|veritable)\s+(?:personne|humain|conseill\w+)\b"),
        _c(r"\b(?:etre\s+rappele|rappelez[-\s]moi|me\s+rappeler|qu'on\s+me\s+rappelle)\b"),
        _c(
            r"^\W*(?:un\s+)?(?:humain|conseiller|agent|operateur)\W*(?:svp|s'il\s+vous\s+plait|maintenant)?\W*$"
        ),
    ),
    "nl": (
        _c(r"""\b(?:spreken|praten|chatten|bellen|contact|contact\ opnemen|in\ contact\ komen|doorverbonden
            |doorverbinden|verbinden)\s+met\s+(?:een|de|iemand|jullie|uw|je)?\s*(?:echte?\s+)?
            (?:medewerker|mens|persoon|iemand|collega|klantenservice(?:medewerker)?|leidinggevende|manager
            |supervisor|operator|agent)\b"""),
        _c(r"""\b(?:een|met\s+een|met|de)\s+(?:echte?\s+)?(?:medewerker|mens|persoon|collega
            |klantenservicemedewerker|leidinggevende|manager|supervisor|operator)\s+(?:\w+\s+){0,3}?
            (?:spreken|praten|bellen|chatten|hebben|te\ spreken|aan\ de\ lijn)\b"""),
        _c(r"\biemand\s+(?:\w+\s+){0,2}?(?:te\s+)?(?:spreken|bellen|aan\s+de\s+lijn)\b"),
        _c(r"\b(?:verbind|zet|breng)\s+(?:me|mij)\s+(?:\w+\s+){0,2}?(?:door|over)\b|\bdoorverbinden\b"),
        _c(r"""\b(?:ik\ wil|ik\ wil\ graag|ik\ eis|ik\ vraag\ om|geef\ me|mag\ ik)\s+(?:een|met\ een)?\s*
            (?:echte?\s+)?(?:mens|medewerker|persoon|leidinggevende|manager)\b"""),
        _c(r"\been\s+echte?\s+(?:mens|persoon|medewerker)\b"),
        _c(
            r"\b(?:bel|belt)\s+(?:me|mij|u\s+me|u\s+mij)\s+(?:\w+\s+)?terug\b|\bteruggebeld\b|\bterugbellen\b"
        ),
        _c(r"^\W*(?:een\s+)?(?:mens|medewerker)\W*(?:aub|alstublieft|graag|nu)?\W*$"),
    ),
}

THREAT_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "en": (
        _c(r"""\bnever\s+(?:\w+\s+){0,3}?(?:order|ordering|buy|buying|shop|shopping|purchase|purchasing|use
            |using|come\ back|coming\ back)\b[^.!?]{0,40}?\b(?:again|anymore|any\ more)\b"""),
        _c(r"\bnever\s+again\b"),
        _c(
            r"\b(?:take|taking)\s+my\s+(?:business|money|custom|orders)\s+(?:elsewhere|somewhere\s+else|to\s+\w+)"
        ),
        _c(r"""\b(?:go|going|switch|switching|move|moving|shop|shopping|order|ordering|buy
            |buying)\s+(?:over\s+)?
            (?:to|at|from)\s+(?:amazon|ebay|walmart|target|aliexpress|zalando|a\ competitor|your\ competitors?
            |the\ competition|someone\ else|another\ (?:shop|store|company|site|retailer))\b"""),
        _c(
            r"\b(?:lost|losing|lose)\s+(?:a|another|one|your|me\s+as\s+a)\s+(?:loyal\s+|good\s+)?customers?\b"
        ),
        _c(r"\byou(?:'ve|\s+have|\s+just)?\s+lost\s+me\b"),
        _c(r"\b(?:last|final)\s+time\s+(?:i|we)\s+(?:\w+\s+)?(?:order|buy|shop|use|purchase)\w*\b"),
        _c(r"\b(?:i'?m|i\s+am)\s+(?:so\s+)?done\s+with\s+(?:you|your|this\s+(?:company|shop|store))\b"),
        _c(r"\b(?:chargeback|charge\s+back|dispute\s+(?:the|this)\s+(?:charge|payment)\s+with)\b"),
        _c(r"\b(?:close|cancel|delete)\s+my\s+account\s+(?:and|&)\s+(?:go|shop|order|buy|never|take)\b"),
    ),
    "fr": (
        _c(r"\bplus\s+jamais\b[^.!?]{0,40}?\b(?:command\w*|achat\w*|achet\w*|chez\s+vous|client)"),
        _c(r"\bje\s+ne\s+(?:vous\s+)?(?:commanderai|acheterai|reviendrai|recommanderai)\s+plus\b"),
        _c(r"""\b(?:aller|commander|acheter|passer|vais)\s+(?:\w+\s+)?(?:chez|sur|a)\s+(?:amazon
            |la\ concurrence
            |un\ concurrent|vos\ concurrents|cdiscount|fnac|darty|bol|zalando)\b"""),
        _c(r"\b(?:perdu|perdez)\s+(?:un|une)\s+(?:\w+\s+)?client"),
        _c(r"\bderniere\s+fois\s+que\s+(?:je|j)\s*'?\s*(?:command|achet|pass)\w*"),
        _c(r"\bj'en\s+ai\s+fini\s+avec\s+vous\b|\bc'est\s+fini\s+(?:avec\s+vous|pour\s+moi)\b"),
    ),
    "nl": (
        _c(r"\bnooit\s+meer\b[^.!?]{0,40}?\b(?:bestel\w*|koop|kopen|bij\s+jullie|klant|terug)\b"),
        _c(
            r"\b(?:bestel|koop)\s+(?:hier|bij\s+jullie|nooit)\s+(?:\w+\s+)?nooit\s+meer\b|\bnooit\s+meer\s+bij\s+jullie\b"
        ),
        _c(r"""\b(?:ga|gaan)\s+(?:\w+\s+){0,2}?(?:naar|bij)\s+(?:bol|bol\.com|amazon|coolblue
            |zalando|de\ concurrent
            |de\ concurrentie|een\ concurrent)\b"""),
        _c(r"\b(?:een|weer\s+een)\s+(?:trouwe\s+)?klant\s+(?:kwijt|armer|verloren)\b"),
        _c(r"\blaatste\s+keer\s+dat\s+ik\b"),
        _c(r"\bik\s+ben\s+(?:helemaal\s+)?klaar\s+met\s+(?:jullie|dit\s+bedrijf|deze\s+winkel)\b"),
    ),
}

PUBLIC_COMPLAINT_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "en": (
        _c(r"""\b(?:post|posting|write|writing|share|sharing|put|putting|tweet|tweeting|tell|telling|blast
            |blasting|expose|exposing|warn|warning)\b[^.!?]{0,40}?\b(?:twitter|facebook|instagram
            |reddit|tiktok
            |youtube|social\ media|linkedin|everyone|everybody|all\ my\ friends|the\ internet
            |online|public)\b"""),
        _c(r"""\b(?:trustpilot|yelp|better\ business\ bureau|bbb|trading\ standards|consumer\ protection
            |ombudsman|ftc|consumer\ rights|watchdog|attorney\ general)\b"""),
        _c(r"\b(?:bad|negative|terrible|scathing|awful)\s+reviews?\b|\b(?:1|one|zero|0)[-\s]star\b"),
        _c(
            r"\b(?:lawyer|lawyers|attorney|solicitor|legal\s+action|small\s+claims|take\s+you\s+to\s+court|sue\s+(?:you|your))\b"
        ),
        _c(r"\breport(?:ing)?\s+(?:you|your\s+(?:company|shop|store|business)|this\s+company)\b"),
        _c(r"""\b(?:file|filing|make|making|lodge|lodging|submit|submitting|raise|raising|register
            |issue|write|put
            |open)\s+(?:in\s+)?(?:a\s+|an\s+|my\s+)?(?:formal\s+|official\s+|customer\s+
            |consumer\s+|written\s+)*
            (?:complaint|reclamation|reclamaion|claim\s+against|grievance)s?\b"""),
        _c(r"\b(?:formal|official|customer|consumer)\s+(?:complaint|reclamation|reclamaion|claim)s?\b"),
        _c(r"\b(?:complaint|claim|reclamation)s?\s+against\s+(?:your|ur|you|the)\b"),
        _c(
            r"\b(?:i\s+want\s+to|i'd\s+like\s+to|i\s+would\s+like\s+to|i\s+need\s+to|how\s+(?:do|can)\s+i)\s+complain\b"
        ),
    ),
    "fr": (
        _c(r"""\b(?:publier|poster|mettre|partager|raconter|ecrire|laisser|balancer|denoncer)\b[^.!?]{0,40}?
            \b(?:twitter|facebook|instagram|tiktok|reseaux\ sociaux|trustpilot|avis\ verifies
            |google|internet|partout)\b"""),
        _c(r"""\b(?:avocat|avocats|tribunal|justice|porter\ plainte|plainte|dgccrf|que\ choisir|60\ millions
            |mediateur|association\ de\ consommateurs|signal\s?conso|poursuites|proces)\b"""),
        _c(r"\bavis\s+(?:negatif|1\s+etoile|une\s+etoile|desastreux|salé|sale)\b"),
        _c(r"\b(?:deposer|faire|formuler|envoyer|porter)\s+(?:une\s+)?reclamation\b"),
    ),
    "nl": (
        _c(r"""\b(?:zetten|plaatsen|posten|delen|schrijven|vertellen|zet|plaats|post|deel
            |schrijf)\b[^.!?]{0,40}?
            \b(?:twitter|facebook|instagram|tiktok|social\ media|sociale\ media|trustpilot|kiyoh
            |google|internet)\b"""),
        _c(r"""\b(?:twitter|facebook|instagram|tiktok|social\ media|sociale\ media|trustpilot|kiyoh
            |google\ reviews?)
            \b[^.!?]{0,40}?\b(?:zetten|plaatsen|posten|delen|schrijven|zet|plaats|post|deel)\b"""),
        _c(r"""\b(?:advocaat|rechter|rechtszaak|juridische\ stappen|consumentenbond|geschillencommissie|acm
            |consuwijzer|aangifte|ombudsman)\b"""),
        _c(r"\b(?:slechte|negatieve)\s+(?:review|recensie|beoordeling)\b|\b(?:1|een|nul)\s+ster\b"),
        _c(
            r"\bklacht\s+(?:in\s*(?:te\s+)?dienen|indienen|tegen|over\s+jullie)\b|\b(?:formele|officiele)\s+klacht\b"
        ),
        _c(r"\b(?:een\s+)?klacht\s+(?:\w+\s+){0,3}?(?:indienen|in\s+dienen|neerleggen)\b"),
    ),
}


def _all_languages_first(
    table: dict[str, tuple[re.Pattern[str], ...]], folded: str, language: str
) -> PatternHit:
    """Try the message's own language first, then the others: customers mix languages, and a short
    "medewerker aub" may be detected as English."""
    order = [language] + [lang for lang in LANGUAGES if lang != language]
    for lang in order:
        found = _first_match(table.get(lang, ()), folded)
        if found.hit:
            return found
    return PatternHit(0.0, "")


def explicit_request(text: str, language: str) -> PatternHit:
    return _all_languages_first(EXPLICIT_PATTERNS, fold(text[:MAX_ANALYSED_CHARS]), language)


def threat_to_leave(text: str, language: str) -> PatternHit:
    return _all_languages_first(THREAT_PATTERNS, fold(text[:MAX_ANALYSED_CHARS]), language)


def public_complaint(text: str, language: str) -> PatternHit:
    return _all_languages_first(PUBLIC_COMPLAINT_PATTERNS, fold(text[:MAX_ANALYSED_CHARS]), language)


# --------------------------------------------------------------------------------------------------
# Profanity and shouting
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfanityResult:
    score: float  # sum of weights of the swear words found
    words: tuple[str, ...]


_MASKED_SWEAR = re.compile(
    r"(?<!\w)(?:f[*#@$%!]{2,}k?|f[*#@]ck\w*|sh[*#@!]t|s[*#@]{3}|b[*#@]tch|a[*#@]{2}hole)"
)


def profanity(text: str, language: str) -> ProfanityResult:
    folded = fold(text[:MAX_ANALYSED_CHARS])
    # One weight per word position: "fuck" is in the English and the Dutch list but counts once.
    weights: dict[tuple[int, int], tuple[float, str]] = {}
    for entry in profanity_entries():
        if entry.strict and entry.language != language:
            continue
        for m in entry.pattern.finditer(folded):
            previous = weights.get(m.span())
            if previous is None or previous[0] < entry.weight:
                weights[m.span()] = (entry.weight, m.group(0))
    for m in _MASKED_SWEAR.finditer(folded):  # "f***", "sh*t": the customer meant it
        weights.setdefault(m.span(), (1.0, m.group(0)))
    ordered = [weights[span] for span in sorted(weights)]
    return ProfanityResult(sum(w for w, _ in ordered), tuple(word for _, word in ordered))


@dataclass(frozen=True)
class ShoutingResult:
    upper_ratio: float  # share of upper-case letters; 0 when the message is too short to judge
    letters: int
    exclamation_run: int  # longest run of "!" (with "?" mixed in: "?!?!")


_EXCLAMATION_RUN = re.compile(r"[!?¡]*![!?¡]*")


def shouting(text: str, min_letters: int) -> ShoutingResult:
    text = text[:MAX_ANALYSED_CHARS]
    letters = [ch for ch in text if ch.isalpha()]
    cased = [ch for ch in letters if ch.isupper() or ch.islower()]  # scripts without case do not count
    upper = sum(1 for ch in cased if ch.isupper())
    ratio = upper / len(cased) if len(cased) >= min_letters else 0.0
    runs = [m.group(0).count("!") + m.group(0).count("?") for m in _EXCLAMATION_RUN.finditer(text)]
    return ShoutingResult(round(ratio, 4), len(cased), max(runs, default=0))


# --------------------------------------------------------------------------------------------------
# Loops: repeats and bot failures
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatResult:
    repeats: int  # earlier customer messages at or above the similarity threshold
    max_similarity: float


def repeated_request(vectors: np.ndarray, threshold: float) -> RepeatResult:
    """vectors[-1] is the current message, the rows before it earlier customer messages (L2-normalised)."""
    if vectors.ndim != 2 or vectors.shape[0] < 2:
        return RepeatResult(0, 0.0)
    sims = vectors[:-1] @ vectors[-1]
    return RepeatResult(int(np.sum(sims >= threshold)), float(np.max(sims)))


def bot_failures_in_a_row(bot_failed_flags: Sequence[bool]) -> int:
    """How many of the latest bot answers, counting back from the newest, said they could not help."""
    count = 0
    for failed in reversed(bot_failed_flags):
        if not failed:
            break
        count += 1
    return count


def char_ngram_vectors(texts: list[str], n: int = 3) -> np.ndarray:
    """L2-normalised hashed character-trigram counts: the repeat detector's fallback when no embedding
    model can be loaded (catches verbatim and near-verbatim repeats, not paraphrases)."""
    dim = 2048
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = f" {' '.join(tokens(fold(text[:MAX_ANALYSED_CHARS])))} "
        for i in range(max(0, len(padded) - n + 1)):
            gram = padded[i : i + n]
            # a stable hash (Python's str hash is salted per process)
            h = int.from_bytes(gram.encode("utf-8")[:8].ljust(8, b"\0"), "little") * 2654435761
            out[row, h % dim] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    result: np.ndarray = out / norms
    return result
