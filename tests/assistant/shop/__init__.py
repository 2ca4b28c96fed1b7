"""Tests of assistant.shop: catalogue and generator, demo customers, rows, SQL session and store, validation,
τ² import/export, orders index, CLI (one test module per module)."""
