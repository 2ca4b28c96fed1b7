"""Lossless conversion between the shop's pydantic models (schema.py) and table rows (models.py).

Each row's `extra` JSON keeps what the columns cannot say: undeclared keys of the model and of its nested
models ("." for the model itself, else the nested field's name), optional fields that were set to an
explicit null ("null"), and defaulted fields that were absent in the input ("unset"). With these,
`to_tau2()` of a loaded model is exactly `to_tau2()` of the saved one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from assistant.shop import schema
from assistant.shop.validation import ShopDataError

Row = dict[str, Any]  # a row to write
Stored = Mapping[str, Any]  # a row as read back
M = TypeVar("M", bound=BaseModel)

ADDRESS_FIELDS = ("address1", "address2", "city", "country", "state", "zip")
ORDER_ACTION_FIELDS = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)
# Columns named as the model's fields, per model (renamed ones are handled where they are built).
VARIANT_FIELDS = ("item_id", "options", "available", "price")
ITEM_FIELDS = ("name", "product_id", "item_id", "price", "options")
METHOD_FIELDS = ("source", "brand", "last_four", "balance")
PAYMENT_FIELDS = ("transaction_type", "amount", "payment_method_id")


def extra_of(model: BaseModel, nested: Mapping[str, BaseModel] | None = None) -> dict[str, Any] | None:
    """What the columns of `model` (and of its `nested` models) cannot hold, or None when nothing."""
    extra: dict[str, Any] = {}
    if model.model_extra:
        extra["."] = to_jsonable_python(model.model_extra)
    for name, sub in (nested or {}).items():
        if sub.model_extra:
            extra[name] = to_jsonable_python(sub.model_extra)
    fields = type(model).model_fields
    nulls = sorted(
        name
        for name in model.model_fields_set
        if name in fields and not fields[name].is_required() and getattr(model, name) is None
    )
    if nulls:
        extra["null"] = nulls
    unset = sorted(
        name
        for name, info in fields.items()
        if not info.is_required() and info.default is not None and name not in model.model_fields_set
    )
    if unset:
        extra["unset"] = unset
    return extra or None


def build(model_type: type[M], values: dict[str, Any], extra: Mapping[str, Any] | None) -> M:
    """Rebuild a model from column values: None means "never set" unless extra records an explicit null."""
    extra = extra or {}
    fields = model_type.model_fields
    data: dict[str, Any] = {}
    nulls = set(extra.get("null", ()))
    unset = set(extra.get("unset", ()))
    for name, value in values.items():
        if name in unset:
            continue
        if value is None and name in fields and not fields[name].is_required() and name not in nulls:
            continue
        data[name] = value
    data.update(extra.get(".", {}))
    return model_type.model_validate(data)


def _sub_extra(extra: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    if not extra or name not in extra:
        return None
    return {".": extra[name]}


def _by_position(rows: Sequence[Stored]) -> list[Stored]:
    return sorted(rows, key=lambda row: row["position"])


def _values(row: Stored, names: Sequence[str]) -> dict[str, Any]:
    return {name: row[name] for name in names}


def _attributes(model: BaseModel, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in names}


def _child_rows(key: Row, models: Sequence[M], columns: Callable[[M], Row]) -> list[Row]:
    """One row per model of a list: the parent's key, the position, `columns(model)` and the extra."""
    return [
        {**key, "position": index, **columns(model), "extra": extra_of(model)}
        for index, model in enumerate(models)
    ]


# --- products ------------------------------------------------------------------------------------------


def _check_keys(owner: str, kind: str, id_name: str, mapping: Mapping[str, BaseModel]) -> None:
    """Refuse a dictionary whose keys are not the ids of its values (the export could not rebuild it)."""
    for key, model in mapping.items():
        if key != getattr(model, id_name):
            raise ShopDataError(
                f"{owner}: {kind} key {key!r} differs from its {id_name} {getattr(model, id_name)!r}"
            )


def product_rows(product: schema.Product, position: int) -> tuple[Row, list[Row]]:
    _check_keys(f"product {product.product_id}", "variant", "item_id", product.variants)
    product_row: Row = {
        "product_id": product.product_id,
        "name": product.name,
        "position": position,
        "extra": extra_of(product),
    }
    variant_rows = _child_rows(
        {"product_id": product.product_id},
        list(product.variants.values()),
        lambda variant: {**_attributes(variant, VARIANT_FIELDS), "options": dict(variant.options)},
    )
    return product_row, variant_rows


def product_from_rows(product_row: Stored, variant_rows: Sequence[Stored]) -> schema.Product:
    variants = {
        row["item_id"]: build(schema.Variant, _values(row, VARIANT_FIELDS), row["extra"])
        for row in _by_position(variant_rows)
    }
    return build(
        schema.Product,
        {"name": product_row["name"], "product_id": product_row["product_id"], "variants": variants},
        product_row["extra"],
    )


# --- users ---------------------------------------------------------------------------------------------


def _address_from(row: Stored, extra: Mapping[str, Any] | None) -> schema.Address:
    return build(schema.Address, _values(row, ADDRESS_FIELDS), _sub_extra(extra, "address"))


def user_rows(user: schema.User, position: int) -> tuple[Row, list[Row]]:
    _check_keys(f"user {user.user_id}", "payment method", "id", user.payment_methods)
    user_row: Row = {
        "user_id": user.user_id,
        "first_name": user.name.first_name,
        "last_name": user.name.last_name,
        "email": user.email,
        **_attributes(user.address, ADDRESS_FIELDS),
        "order_ids": list(user.orders),
        "position": position,
        "extra": extra_of(user, {"name": user.name, "address": user.address}),
    }
    method_rows = _child_rows(
        {"user_id": user.user_id},
        list(user.payment_methods.values()),
        lambda method: {"payment_method_id": method.id, **_attributes(method, METHOD_FIELDS)},
    )
    return user_row, method_rows


def user_from_rows(user_row: Stored, method_rows: Sequence[Stored]) -> schema.User:
    extra = user_row["extra"]
    methods = {
        row["payment_method_id"]: build(
            schema.PaymentMethod,
            {
                "source": row["source"],
                "id": row["payment_method_id"],
                **_values(row, METHOD_FIELDS[1:]),
            },
            row["extra"],
        )
        for row in _by_position(method_rows)
    }
    name = build(schema.UserName, _values(user_row, ("first_name", "last_name")), _sub_extra(extra, "name"))
    return build(
        schema.User,
        {
            "user_id": user_row["user_id"],
            "name": name,
            "address": _address_from(user_row, extra),
            "email": user_row["email"],
            "payment_methods": methods,
            "orders": list(user_row["order_ids"]),
        },
        extra,
    )


# --- orders --------------------------------------------------------------------------------------------


def order_rows(order: schema.Order, position: int) -> tuple[Row, list[Row], list[Row], list[Row]]:
    order_row: Row = {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "status": order.status,
        **_attributes(order.address, ADDRESS_FIELDS),
        "position": position,
        **_attributes(order, ORDER_ACTION_FIELDS),
        "extra": extra_of(order, {"address": order.address}),
    }
    for name in ("exchange_items", "exchange_new_items", "return_items"):
        if order_row[name] is not None:
            order_row[name] = list(order_row[name])
    key = {"order_id": order.order_id}
    item_rows = _child_rows(
        key,
        order.items,
        lambda item: {**_attributes(item, ITEM_FIELDS), "options": dict(item.options)},
    )
    fulfillment_rows = _child_rows(
        key,
        order.fulfillments,
        lambda f: {"tracking_ids": list(f.tracking_id), "item_ids": list(f.item_ids)},
    )
    payment_rows = _child_rows(
        key, order.payment_history, lambda payment: _attributes(payment, PAYMENT_FIELDS)
    )
    return order_row, item_rows, fulfillment_rows, payment_rows


def order_from_rows(
    order_row: Stored,
    item_rows: Sequence[Stored],
    fulfillment_rows: Sequence[Stored],
    payment_rows: Sequence[Stored],
) -> schema.Order:
    extra = order_row["extra"]
    items = [
        build(schema.OrderItem, _values(row, ITEM_FIELDS), row["extra"]) for row in _by_position(item_rows)
    ]
    fulfillments = [
        build(
            schema.Fulfillment,
            {"tracking_id": row["tracking_ids"], "item_ids": row["item_ids"]},
            row["extra"],
        )
        for row in _by_position(fulfillment_rows)
    ]
    payments = [
        build(schema.PaymentTransaction, _values(row, PAYMENT_FIELDS), row["extra"])
        for row in _by_position(payment_rows)
    ]
    return build(
        schema.Order,
        {
            "order_id": order_row["order_id"],
            "user_id": order_row["user_id"],
            "address": _address_from(order_row, extra),
            "items": items,
            "status": order_row["status"],
            "fulfillments": fulfillments,
            "payment_history": payments,
            **_values(order_row, ORDER_ACTION_FIELDS),
        },
        extra,
    )
