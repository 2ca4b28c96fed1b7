"""The fixed demo customers: ids, order lists and the catalogue items their orders name."""

from __future__ import annotations

from assistant.shop import demo
from assistant.shop.catalogue import build_catalogue


def test_demo_customers_own_exactly_their_orders() -> None:
    users, orders = demo.demo_customers(build_catalogue())
    assert [user.user_id for user in users] == list(demo.DEMO_USER_IDS)
    assert [order.order_id for order in orders] == list(demo.DEMO_ORDER_IDS)
    for user in users:
        assert user.orders == [order.order_id for order in orders if order.user_id == user.user_id]
        owned = {
            order.payment_history[0].payment_method_id for order in orders if order.user_id == user.user_id
        }
        assert owned <= set(user.payment_methods)


def test_demo_orders_have_the_statuses_and_items_the_docs_name() -> None:
    users, orders = demo.demo_customers(build_catalogue())
    by_id = {order.order_id: order for order in orders}
    assert by_id[demo.DEMO_PENDING_ORDER_ID].status == "pending"
    assert by_id[demo.DEMO_PROCESSED_ORDER_ID].status == "processed"
    bottle = by_id[demo.DEMO_SECOND_DELIVERED_ORDER_ID].items[0]
    assert bottle.name == "Insulated Water Bottle" and bottle.options["capacity"] == "1L"
    delivered = by_id[demo.DEMO_DELIVERED_ORDER_ID]
    assert delivered.fulfillments[0].tracking_id == ["100000000001"]
    assert delivered.address == users[0].address  # shipped to Emma's own address
    assert users[0].payment_methods[demo.DEMO_GIFT_CARD_ID].balance == 150.0


def test_generator_still_exports_the_demo_names() -> None:
    from assistant.shop import generator

    assert generator.DEMO_USER_ID == demo.DEMO_USER_ID
    assert generator.DEMO_SECOND_USER_ZIP == demo.DEMO_SECOND_USER_ZIP


def test_the_demo_names_match_demo_yaml() -> None:
    emma, lucas = demo.demo_users()
    assert (emma.user_id, emma.email, emma.address.zip) == (
        demo.DEMO_USER_ID,
        demo.DEMO_USER_EMAIL,
        demo.DEMO_USER_ZIP,
    )
    assert (emma.name.first_name, emma.name.last_name) == (
        demo.DEMO_USER_FIRST_NAME,
        demo.DEMO_USER_LAST_NAME,
    )
    assert list(emma.payment_methods) == [demo.DEMO_CREDIT_CARD_ID, demo.DEMO_GIFT_CARD_ID]
    assert (lucas.user_id, lucas.email, lucas.address.zip) == (
        demo.DEMO_SECOND_USER_ID,
        demo.DEMO_SECOND_USER_EMAIL,
        demo.DEMO_SECOND_USER_ZIP,
    )
    assert list(lucas.payment_methods) == [demo.DEMO_SECOND_PAYPAL_ID]
    assert emma.orders == [
        demo.DEMO_PENDING_ORDER_ID,
        demo.DEMO_DELIVERED_ORDER_ID,
        demo.DEMO_PROCESSED_ORDER_ID,
    ]
    assert lucas.orders == [demo.DEMO_SECOND_DELIVERED_ORDER_ID, demo.DEMO_SECOND_PENDING_ORDER_ID]
    assert demo.demo_users()[0] is not emma  # new objects each call: callers may change them
