"""Slot extraction for the offline planner: order ids, emails, names, zip codes, reasons, payment choices,
addresses and item options, from what the customer wrote (English, French, Dutch)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ORDER_ID_RE = re.compile(r"#?\s?\b[Ww]\s?(\d{7})\b")
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
ZIP_RE = re.compile(r"\b(\d{5})\b")
CARD_LAST_FOUR_RE = re.compile(r"(?:ending|ends|eindigend|finissant|se terminant)\D{0,12}(\d{4})\b", re.I)

# Introductions that precede a full name, in the three languages we serve.
# Surname particles ("de Vries", "van der Berg", "Le Gall") belong to the last name.
_PARTICLES = r"(?:(?:van der|van den|van de|van|von|de la|de|der|den|du|le|la|da|di)\s+)?"
NAME_INTRO_RE = re.compile(
    r"(?:my name is|name's|i am|i'm|this is|it's|je m'appelle|je suis|mon nom est|"
    r"ik ben|mijn naam is|ik heet)\s+([A-ZÀ-Ý][\w'À-ÿ-]+)\s+(" + _PARTICLES + r"[A-ZÀ-Ý][\w'À-ÿ-]+)",
    re.I,
)
# A bare "First Last" (both capitalised), e.g. "Yusuf Rossi, 19122".
BARE_NAME_RE = re.compile(r"\b([A-ZÀ-Ý][a-zà-ÿ'-]+)\s+([A-ZÀ-Ý][a-zà-ÿ'-]+)\b")
NOT_NAMES = {
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "please",
    "order",
    "my",
    "the",
    "yes",
    "no",
    "bonjour",
    "merci",
    "hallo",
    "dank",
    "goedemiddag",
    "goedemorgen",
    "bonsoir",
    "cancel",
    "return",
    "where",
    "what",
    "when",
    "how",
    "can",
    "could",
    "would",
    "i",
    "zip",
    "code",
    "email",
    "new",
    "old",
    "gift",
    "card",
    "credit",
    "paypal",
    "water",
    "bottle",
    "street",
    "road",
    "avenue",
    "drive",
    "lane",
    "suite",
    "apt",
    "dear",
    "good",
    "morning",
    "afternoon",
    "evening",
    "ok",
    "okay",
    "sure",
    "great",
    "oui",
    "ja",
}

CANCEL_REASONS = {
    "ordered by mistake": (
        "by mistake",
        "mistake",
        "accident",
        "accidentally",
        "wrong item",
        "ordered wrong",
        "par erreur",
        "erreur",
        "per ongeluk",
        "vergissing",
        "per vergissing",
    ),
    "no longer needed": (
        "no longer need",
        "don't need",
        "dont need",
        "do not need",
        "not needed",
        "changed my mind",
        "no longer want",
        "don't want",
        "dont want",
        "not necessary",
        "plus besoin",
        "n'en ai plus besoin",
        "pas besoin",
        "niet meer nodig",
        "heb het niet meer nodig",
        "niet nodig",
        "no longer needed",
    ),
}

PAYMENT_WORDS = {
    "gift_card": ("gift card", "giftcard", "carte cadeau", "carte-cadeau", "cadeaukaart", "cadeaubon"),
    "paypal": ("paypal",),
    "credit_card": (
        "credit card",
        "card ending",
        "visa",
        "mastercard",
        "amex",
        "carte bancaire",
        "carte de crédit",
        "creditcard",
    ),
    "original": (
        "original",
        "origineel",
        "original payment",
        "same card",
        "same payment",
        "original method",
        "how i paid",
        "moyen de paiement d'origine",
        "oorspronkelijke betaalmethode",
    ),
}

ALL_WORDS = ("all", "everything", "all items", "all of them", "the whole order", "tout", "tous", "alles")


@dataclass
class Slots:
    order_ids: list[str] = field(default_factory=list)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    zip_code: str | None = None
    cancel_reason: str | None = None
    payment_kind: str | None = None  # gift_card | paypal | credit_card | original
    card_last_four: str | None = None
    address: dict[str, str] | None = None

    def merge(self, newer: Slots) -> Slots:
        """Later messages win, but nothing the customer already said is forgotten."""
        merged = Slots(**{k: v for k, v in self.__dict__.items()})
        for order_id in newer.order_ids:
            if order_id in merged.order_ids:
                merged.order_ids.remove(order_id)
            merged.order_ids.append(order_id)
        for key in (
            "email",
            "first_name",
            "last_name",
            "zip_code",
            "cancel_reason",
            "payment_kind",
            "card_last_four",
            "address",
        ):
            value = getattr(newer, key)
            if value:
                setattr(merged, key, value)
        return merged

    @property
    def latest_order_id(self) -> str | None:
        return self.order_ids[-1] if self.order_ids else None


def extract_order_ids(text: str) -> list[str]:
    return [f"#W{m}" for m in ORDER_ID_RE.findall(text)]


def extract_name(text: str) -> tuple[str, str] | None:
    match = NAME_INTRO_RE.search(text)
    if match and match.group(1).lower() not in NOT_NAMES and match.group(2).lower() not in NOT_NAMES:
        *particles, surname = match.group(2).split()
        return match.group(1).capitalize(), " ".join([*(p.lower() for p in particles), surname.capitalize()])
    for match in BARE_NAME_RE.finditer(text):
        first, last = match.group(1), match.group(2)
        if first.lower() not in NOT_NAMES and last.lower() not in NOT_NAMES:
            return first, last
    return None


def extract_cancel_reason(text: str) -> str | None:
    lowered = text.lower().replace("’", "'")
    for reason, phrases in CANCEL_REASONS.items():
        if any(p in lowered for p in phrases):
            return reason
    return None


def extract_payment_kind(text: str) -> str | None:
    lowered = text.lower()
    for kind, words in PAYMENT_WORDS.items():
        if any(w in lowered for w in words):
            return kind
    return None


# "12 Oak Street" (US) or "Keizersgracht 12" / "Rue de Rivoli 5b" (house number after the street).
ADDRESS_LINE_RE = re.compile(
    r"\b\d{1,6}\s+[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9 .'-]{1,60}$|^[A-ZÀ-Ý][A-Za-zÀ-ÿ .'-]{3,60}\s\d{1,5}[a-zA-Z]?$"
)
# "CO 80202" (state + US zip), or a Dutch postcode "1015 CJ" with or without a province code.
STATE_ZIP_RE = re.compile(r"\b([A-Z]{2})\s+(\d{5}(?:-\d{4})?)\b|\b(?:([A-Z]{2})\s+)?(\d{4}\s?[A-Z]{2})\b")


_REQUEST_BEFORE_STREET_RE = re.compile(r"^.*\b(?:to|naar|vers|à|a|adres|adresse|address)\s+(?=[A-ZÀ-Ý0-9])")


def extract_address(text: str) -> dict[str, str] | None:
    """A US-style address written on one line: "12 Oak Street, Apt 4, Denver, CO 80202[, USA]".

    Only returns a complete address (street, city, state, zip); a partial one is not guessed at.
    """
    parts = [p.strip() for p in re.split(r"[,\n]", text) if p.strip()]
    # "... of order #W1000001 to Prinsengracht 263": the street starts after the request.
    parts = [_REQUEST_BEFORE_STREET_RE.sub("", p) if not ADDRESS_LINE_RE.search(p) else p for p in parts]
    street_idx = next((i for i, p in enumerate(parts) if ADDRESS_LINE_RE.search(p)), None)
    if street_idx is None:
        return None
    state_idx = next((i for i, p in enumerate(parts) if STATE_ZIP_RE.search(p)), None)
    if state_idx is None or state_idx <= street_idx:
        return None
    state_zip = STATE_ZIP_RE.search(parts[state_idx])
    assert state_zip is not None
    state = state_zip.group(1) or state_zip.group(3) or ""
    zip_code = state_zip.group(2) or state_zip.group(4)
    between = parts[street_idx + 1 : state_idx]
    # European order, "1016 GV Amsterdam": the city follows the postcode in the same part.
    after_zip = parts[state_idx][state_zip.end() :].strip(" .")
    if after_zip and not between:
        between = [after_zip]
    if not between:
        return None
    city = between[-1]
    address2 = ", ".join(between[:-1])
    country = "USA"
    if state_idx + 1 < len(parts) and len(parts[state_idx + 1]) <= 20:
        country = parts[state_idx + 1].rstrip(". ")
        if country.upper() in {"US", "USA", "UNITED STATES"}:
            country = "USA"
    street = ADDRESS_LINE_RE.search(parts[street_idx])
    assert street is not None
    return {
        "address1": street.group(0).strip(),
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip_code,
    }


def extract_slots(text: str) -> Slots:
    slots = Slots(order_ids=extract_order_ids(text))
    email = EMAIL_RE.search(text)
    slots.email = email.group(0).lower() if email else None
    address = extract_address(text)
    rest = text
    if address:
        slots.address = address
        # A zip inside an address is the new address's, not the customer's identity: look for the
        # customer's own name and zip only outside it ("I'm Liam Dubois, zip 83977. Move me to ...").
        start = text.find(address["address1"])
        end = text.rfind(address["zip"])
        inside = 0 <= start <= end
        rest = text[:start] + " " + text[end + len(address["zip"]) :] if inside else ""
    zips = [z for z in ZIP_RE.findall(ORDER_ID_RE.sub(" ", rest))]
    slots.zip_code = zips[-1] if zips else None
    name = extract_name(EMAIL_RE.sub(" ", rest))
    if name:
        slots.first_name, slots.last_name = name
    slots.cancel_reason = extract_cancel_reason(text)
    slots.payment_kind = extract_payment_kind(text)
    card = CARD_LAST_FOUR_RE.search(text)
    slots.card_last_four = card.group(1) if card else None
    return slots


def mentions_all_items(text: str) -> bool:
    lowered = f" {text.lower()} "
    return any(f" {w} " in lowered or f" {w}." in lowered or f" {w}," in lowered for w in ALL_WORDS)


_WORD_RE = re.compile(r"[a-z0-9à-ÿ]+")


def words(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.lower()))


def match_items(text: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order items the customer refers to, by product name words and option values.

    Returns the best-scoring items (ties kept); empty when nothing in the text points at an item.
    """
    said = words(text)
    scored: list[tuple[int, dict[str, Any]]] = []
    for item in items:
        name_words = words(item["name"])
        option_words = (
            set().union(*(words(str(v)) for v in item.get("options", {}).values()))
            if item.get("options")
            else set()
        )
        score = 2 * len(said & name_words) + len(said & option_words)
        if said & name_words:
            scored.append((score, item))
    if not scored:
        return []
    best = max(s for s, _ in scored)
    return [item for s, item in scored if s == best]


def requested_options(text: str, variants: list[dict[str, Any]], current: dict[str, str]) -> dict[str, str]:
    """Option values the customer asks for that differ from the current item (e.g. "in red, size L")."""
    lowered = f" {text.lower()} "
    wanted: dict[str, str] = {}
    values_by_key: dict[str, set[str]] = {}
    for variant in variants:
        for key, value in variant.get("options", {}).items():
            values_by_key.setdefault(key, set()).add(str(value))
    for key, values in values_by_key.items():
        # Longest first so "extra large" wins over "large".
        for value in sorted(values, key=len, reverse=True):
            if value == current.get(key):
                continue
            pattern = r"(?<![\w-])" + re.escape(value.lower()) + r"(?![\w-])"
            if re.search(pattern, lowered):
                wanted[key] = value
                break
    return wanted
