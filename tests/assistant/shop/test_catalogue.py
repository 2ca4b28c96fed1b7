"""The catalogue data file and what is built from it: checked on load, stable ids and prices, featured
variants stocked, unique ids."""

from __future__ import annotations

import random
from importlib import resources

import pytest

from assistant.shop.catalogue import (
    CatalogueError,
    IdDrawer,
    build_catalogue,
    catalogue,
    find_variant,
    parse_catalogue,
)

CATALOGUE_TEXT = resources.files("assistant.shop").joinpath("catalogue.yaml").read_text("utf-8")


def test_the_package_data_file_loads_once() -> None:
    data = catalogue()
    assert catalogue() is data
    assert len(data.products) == 25 and data.products[0].name == "Trail Backpack"
    assert set(data.places) == {"usa", "france", "netherlands"}
    assert ("Boston", "MA", "02") in data.places["usa"].cities  # zip prefixes keep their leading zero
    hiking_boots = next(p for p in data.products if p.name == "Hiking Boots")
    assert hiking_boots.options["waterproof"] == ("yes", "no") and "38" in hiking_boots.options["size"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('"waterproof": ["yes", "no"]', "waterproof: [yes, no]"), "products.7.options.waterproof.0"),
        (("base_price: 89.0", "base_price: -1"), "products.0.base_price"),
        (("card_brands:", "card_brand:"), "card_brands"),
        (("\nproducts:\n", "\nproducts: [\n"), "invalid YAML"),
    ],
)
def test_a_broken_catalogue_is_refused_with_the_place_named(change: tuple[str, str], message: str) -> None:
    broken = CATALOGUE_TEXT.replace(*change, 1)
    assert broken != CATALOGUE_TEXT
    with pytest.raises(CatalogueError, match=message.replace(".", r"\.")):
        parse_catalogue(broken)


def test_build_catalogue_is_the_same_every_time_with_featured_variants_in_stock() -> None:
    products = build_catalogue()
    assert products == build_catalogue()
    by_name = {product.name: product for product in products.values()}
    for product_type in catalogue().products:
        variants = list(by_name[product_type.name].variants.values())
        assert len(variants) == product_type.variants
        for index, featured in enumerate(product_type.featured):
            assert variants[index].options == featured and variants[index].available
        for variant in variants:
            assert 0.85 * product_type.base_price <= variant.price <= 1.3 * product_type.base_price


def test_find_variant_matches_a_subset_of_options() -> None:
    products = build_catalogue()
    product, variant = find_variant(
        products, "Insulated Water Bottle", {"color": "blue", "capacity": "750ml"}
    )
    assert product.name == "Insulated Water Bottle" and variant.item_id in product.variants
    with pytest.raises(KeyError, match="no variant of 'Desk Lamp'"):
        find_variant(products, "Desk Lamp", {"color": "chartreuse"})


def test_id_drawer_never_repeats_and_avoids_taken_ids() -> None:
    rng = random.Random(1)
    first = IdDrawer(rng).digits("#W", 1)  # one digit: at most 9 distinct ids, so repeats are forced
    drawer = IdDrawer(random.Random(1), taken={first})
    drawn = [drawer.digits("#W", 1) for _ in range(8)]
    assert first not in drawn and len(set(drawn)) == 8
    assert all(len(i) == 3 and i.startswith("#W") for i in drawn)
