"""shop tables: products, variants, users, payment methods, orders, items, fulfilments, payments

Revision ID: 0001_shop
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_shop"
down_revision = None
branch_labels = None
depends_on = None


def _address_columns() -> list[sa.Column]:
    return [
        sa.Column("address1", sa.String(255), nullable=False),
        sa.Column("address2", sa.String(255), nullable=False),
        sa.Column("city", sa.String(255), nullable=False),
        sa.Column("country", sa.String(255), nullable=False),
        sa.Column("state", sa.String(255), nullable=False),
        sa.Column("zip", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "shop_products",
        sa.Column("product_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
    )
    op.create_table(
        "shop_variants",
        sa.Column("item_id", sa.String(64), primary_key=True),
        sa.Column(
            "product_id",
            sa.String(64),
            sa.ForeignKey("shop_products.product_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
    )
    op.create_index("ix_shop_variants_product_id", "shop_variants", ["product_id"])

    op.create_table(
        "shop_users",
        *_address_columns(),
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("first_name", sa.String(255), nullable=False),
        sa.Column("last_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("order_ids", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
    )
    op.create_index("ix_shop_users_email_lower", "shop_users", [sa.text("lower(email)")])
    op.create_index(
        "ix_shop_users_name_zip", "shop_users", [sa.text("lower(last_name)"), sa.text("lower(zip)")]
    )
    op.create_table(
        "shop_payment_methods",
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("shop_users.user_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("payment_method_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("brand", sa.String(64), nullable=True),
        sa.Column("last_four", sa.String(16), nullable=True),
        sa.Column("balance", sa.Double(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
    )

    op.create_table(
        "shop_orders",
        *_address_columns(),
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("shop_users.user_id"), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.String(255), nullable=True),
        sa.Column("exchange_items", sa.JSON(), nullable=True),
        sa.Column("exchange_new_items", sa.JSON(), nullable=True),
        sa.Column("exchange_payment_method_id", sa.String(64), nullable=True),
        sa.Column("exchange_price_difference", sa.Double(), nullable=True),
        sa.Column("return_items", sa.JSON(), nullable=True),
        sa.Column("return_payment_method_id", sa.String(64), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
    )
    op.create_index("ix_shop_orders_user_id", "shop_orders", ["user_id"])
    op.create_index("ix_shop_orders_status", "shop_orders", ["status"])

    def order_child(name: str, *columns: sa.Column) -> None:
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column(
                "order_id",
                sa.String(64),
                sa.ForeignKey("shop_orders.order_id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("position", sa.Integer(), nullable=False),
            *columns,
            sa.Column("extra", sa.JSON(), nullable=True),
        )
        op.create_index(f"ix_{name}_order_id", name, ["order_id"])

    order_child(
        "shop_order_items",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
    )
    op.create_index("ix_shop_order_items_item_id", "shop_order_items", ["item_id"])
    order_child(
        "shop_fulfillments",
        sa.Column("tracking_ids", sa.JSON(), nullable=False),
        sa.Column("item_ids", sa.JSON(), nullable=False),
    )
    order_child(
        "shop_payment_transactions",
        sa.Column("transaction_type", sa.String(64), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("payment_method_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "shop_payment_transactions",
        "shop_fulfillments",
        "shop_order_items",
        "shop_orders",
        "shop_payment_methods",
        "shop_users",
        "shop_variants",
        "shop_products",
    ):
        op.drop_table(table)
