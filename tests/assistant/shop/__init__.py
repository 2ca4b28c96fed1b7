"""Tests of assistant.shop: SQL store, τ² import/export, sample-shop generator, orders index, CLI."""
