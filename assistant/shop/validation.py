"""Whether shop data can be stored as given: raw JSON parsed into ShopData with readable errors, and the
consistency a lossless store needs (dictionary keys equal to ids, every item id in one product only)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from assistant.shop.schema import ShopData

# How many of pydantic's errors a ShopDataError names before "(and N more)".
ERRORS_NAMED = 5


class ShopDataError(ValueError):
    """Shop data that cannot be stored as given (inconsistent ids, an order of an unknown user, ...)."""


def validate_shop_data(raw: Any) -> ShopData:
    """Parse raw JSON into ShopData; pydantic's error becomes a ShopDataError naming the first problems."""
    if not isinstance(raw, dict):
        raise ShopDataError(
            f"expected a JSON object with products, users and orders, got {type(raw).__name__}"
        )
    missing = [key for key in ("products", "users", "orders") if key not in raw]
    if missing:
        raise ShopDataError(f"missing top-level key(s): {', '.join(missing)}")
    try:
        return ShopData.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()[:ERRORS_NAMED]
        problems = [f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in errors]
        count = exc.error_count()
        more = "" if count <= ERRORS_NAMED else f" (and {count - ERRORS_NAMED} more)"
        raise ShopDataError("invalid shop data: " + "; ".join(problems) + more) from None


def check_consistency(data: ShopData) -> None:
    """Refuse data whose dictionary keys and ids disagree (the export could not reproduce it)."""
    for kind, mapping, id_field in (
        ("product", data.products, "product_id"),
        ("user", data.users, "user_id"),
        ("order", data.orders, "order_id"),
    ):
        for key, value in mapping.items():  # type: ignore[attr-defined]
            if key != getattr(value, id_field):
                raise ShopDataError(
                    f"{kind} key {key!r} differs from its {id_field} {getattr(value, id_field)!r}"
                )
    item_owner: dict[str, str] = {}
    for product in data.products.values():
        for item_id in product.variants:
            if item_id in item_owner:
                raise ShopDataError(
                    f"item id {item_id} appears in products {item_owner[item_id]} and {product.product_id}"
                )
            item_owner[item_id] = product.product_id


def check_order_owners(data: ShopData) -> None:
    """Every order's user must be in the data."""
    for order in data.orders.values():
        if order.user_id not in data.users:
            raise ShopDataError(f"order {order.order_id}: user {order.user_id!r} is not in the data")
