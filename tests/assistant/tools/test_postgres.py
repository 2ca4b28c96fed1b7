"""The same tools on PostgreSQL: a write is committed, a refused or failing call is rolled back."""

from __future__ import annotations

import pytest

from assistant.shop.store import ShopStore
from assistant.tools import CustomerScope, Toolkit
from tests.assistant.tools.shop_factory import make_shop


@pytest.mark.postgres
def test_writes_and_refusals_on_postgresql(postgres_url: str) -> None:
    store = ShopStore(postgres_url)
    store.migrate()
    store.import_data(make_shop())
    scope = CustomerScope.customer("jane_doe_1")
    before = store.export_data().to_tau2()

    refused = Toolkit(store).run(
        scope, "cancel_pending_order", {"order_id": "#W0000005", "reason": "no longer needed"}
    )
    assert refused.error == "Order not found"  # John's order
    refused = Toolkit(store).run(
        scope,
        "modify_pending_order_payment",
        {"order_id": "#W0000001", "payment_method_id": "gift_card_1"},
    )
    assert refused.error is not None and refused.error.startswith("Insufficient gift card balance")
    assert store.export_data().to_tau2() == before

    done = Toolkit(store).run(
        scope, "cancel_pending_order", {"order_id": "#W0000004", "reason": "no longer needed"}
    )
    assert done.ok, done.error
    after = store.export_data().to_tau2()
    assert after["orders"]["#W0000004"]["status"] == "cancelled"
    assert after["users"]["jane_doe_1"]["payment_methods"]["gift_card_1"]["balance"] == 50.0
