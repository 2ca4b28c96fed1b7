"""Questions about what the shop sells ("what colours does the Trail Backpack come in?"): the catalogue
answers them (list_all_product_types -> get_product_details), not the help centre."""

from __future__ import annotations

import re
from typing import Any

from assistant.planner.kit import PlannerKit
from assistant.planner.slots import requested_options, words
from assistant.planner.state import DialogueState, Step

PRODUCT_CUE_RE = re.compile(
    r"\b(colou?rs?|sizes|available|availability|in stock|sold out|comes? in|options|versions|"
    r"price|cost|how much (is|are|does|do)|do you (have|sell)|couleurs?|tailles|disponibles?|"
    r"en stock|prix|kleuren|maten|beschikbaar|op voorraad|prijs)\b",
    re.I,
)


def product_flow(kit: PlannerKit, state: DialogueState) -> Step | None:
    """Catalogue look-up for a product question; None when no product of the shop is named."""
    catalogue = next(
        (o.result for o in reversed(state.history) if o.name == "list_all_product_types" and o.ok),
        None,
    )
    if not isinstance(catalogue, dict):
        if state.called_this_turn("list_all_product_types") is not None:
            return None
        return Step(tool="list_all_product_types")
    said = {w.rstrip("s") for w in words(state.latest_text)}
    named = [name for name in catalogue if (parts := {w.rstrip("s") for w in words(name)}) and parts <= said]
    if not named:
        return None
    product_id = str(catalogue[max(named, key=len)])
    product = state.products.get(product_id)
    if product is None:
        if state.called_this_turn("get_product_details", product_id=product_id) is not None:
            return None
        return Step(tool="get_product_details", args={"product_id": product_id})
    return product_answer(kit, state, product)


def product_answer(kit: PlannerKit, state: DialogueState, product: dict[str, Any]) -> Step:
    name = str(product.get("name", ""))
    variants = list(product.get("variants", {}).values())
    in_stock = [v for v in variants if v.get("available")]
    if not in_stock:
        return kit.say(state, "product_all_sold_out", name=name)
    values: dict[str, list[str]] = {}
    for variant in in_stock:
        for key, value in variant.get("options", {}).items():
            if str(value) not in values.setdefault(key, []):
                values[key].append(str(value))
    options = "; ".join(f"{key}: {', '.join(vals)}" for key, vals in values.items())
    wanted = requested_options(state.latest_text, variants, {})
    if wanted:
        wanted_text = ", ".join(wanted.values())
        matching = [v for v in in_stock if all(v["options"].get(k) == val for k, val in wanted.items())]
        if not matching:
            return kit.say(state, "product_sold_out", name=name, wanted=wanted_text, options=options)
        listed = "; ".join(
            f"{', '.join(str(x) for x in v['options'].values())} (${float(v['price']):.2f})"
            for v in matching[:4]
        )
        return kit.say(state, "product_available", name=name, wanted=wanted_text, variants=listed)
    prices = [float(v["price"]) for v in in_stock]
    return kit.say(
        state,
        "product_options",
        name=name,
        options=options,
        low=f"{min(prices):.2f}",
        high=f"{max(prices):.2f}",
    )
