"""The Maple & Moss catalogue: product types, customers' names and places, read from `catalogue.yaml`.

`catalogue()` reads and checks the package data file once; `build_catalogue()` turns its product types into
the shop's products and variants (ids and prices drawn from a fixed seed, so they are the same for every
generated shop and docs can name items). `IdDrawer` draws unique ids in τ²'s formats.
"""

from __future__ import annotations

import itertools
import random
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.shop.schema import Product, Variant

CATALOGUE_FILE = "catalogue.yaml"
# The catalogue does not depend on the seed: item ids and prices stay stable across generated shops.
CATALOGUE_SEED = 20240917
# Of the variants that are not featured, about one in six is sold out.
SOLD_OUT_SHARE = 0.17


class _Data(BaseModel):
    # Strings stay strings: an unquoted `yes` or `02` in the YAML file is refused, not turned into True or 2.
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProductType(_Data):
    """One product type: option axes (in order), a base price and how many combinations are stocked."""

    name: str = Field(min_length=1)
    options: dict[str, tuple[str, ...]]
    base_price: float = Field(gt=0)
    variants: int = Field(ge=1)
    # Combinations that must be stocked (and available): demo orders and docs name them.
    featured: tuple[dict[str, str], ...] = ()


class Places(_Data):
    """Where customers of one country live: (city, state or region, zip prefix) and street names."""

    cities: tuple[tuple[str, str, str], ...] = Field(min_length=1)
    streets: tuple[str, ...] = Field(min_length=1)


class Catalogue(_Data):
    products: tuple[ProductType, ...] = Field(min_length=1)
    first_names: tuple[str, ...] = Field(min_length=1)
    last_names: tuple[str, ...] = Field(min_length=1)
    places: dict[str, Places]
    card_brands: tuple[str, ...] = Field(min_length=1)


class CatalogueError(ValueError):
    """The catalogue data file is not what the generator needs (the message names the first problem)."""


def parse_catalogue(text: str) -> Catalogue:
    """A catalogue from the YAML text; CatalogueError naming the first problem otherwise."""
    try:
        return Catalogue.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{CATALOGUE_FILE}: invalid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise CatalogueError(f"{CATALOGUE_FILE}: {where}: {first['msg']}") from None


@cache
def catalogue() -> Catalogue:
    """The shop's catalogue data (package data, read once)."""
    return parse_catalogue(resources.files("assistant.shop").joinpath(CATALOGUE_FILE).read_text("utf-8"))


class IdDrawer:
    """Unique random ids in τ²'s formats, drawn from one seeded generator."""

    def __init__(self, rng: random.Random, taken: set[str] | None = None) -> None:
        self.rng = rng
        self.taken: set[str] = set(taken or ())

    def digits(self, prefix: str, count: int) -> str:
        while True:
            candidate = prefix + str(self.rng.randrange(10 ** (count - 1), 10**count))
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate


def _stocked_combinations(product_type: ProductType, rng: random.Random) -> list[dict[str, str]]:
    """The featured combinations first, then a seeded pick of the others, `variants` in all."""
    axes = list(product_type.options)
    combos = [
        dict(zip(axes, values, strict=True)) for values in itertools.product(*product_type.options.values())
    ]
    featured = [dict(combo) for combo in product_type.featured]
    others = [combo for combo in combos if combo not in featured]
    rng.shuffle(others)
    return featured + others[: max(0, product_type.variants - len(featured))]


def build_catalogue() -> dict[str, Product]:
    """The Maple & Moss products and variants (the same for every seed)."""
    rng = random.Random(CATALOGUE_SEED)
    ids = IdDrawer(rng)
    products: dict[str, Product] = {}
    for product_type in catalogue().products:
        chosen = _stocked_combinations(product_type, rng)
        product_id = ids.digits("", 10)
        variants: dict[str, Variant] = {}
        for index, options in enumerate(chosen):
            item_id = ids.digits("", 10)
            # Featured variants stay in stock; of the others some are sold out.
            available = index < len(product_type.featured) or rng.random() > SOLD_OUT_SHARE
            price = round(product_type.base_price * rng.uniform(0.85, 1.3), 2)
            variants[item_id] = Variant(item_id=item_id, options=options, available=available, price=price)
        products[product_id] = Product(name=product_type.name, product_id=product_id, variants=variants)
    return products


def find_variant(products: dict[str, Product], name: str, options: dict[str, str]) -> tuple[Product, Variant]:
    """The catalogue variant of product `name` whose options include `options`."""
    for product in products.values():
        if product.name != name:
            continue
        for variant in product.variants.values():
            if all(variant.options.get(key) == value for key, value in options.items()):
                return product, variant
    raise KeyError(f"no variant of {name!r} with options {options}")
