"""Shared fixtures of the shop tests: one generated sample shop per session (it is deterministic)."""

from __future__ import annotations

import pytest

from assistant.shop.generator import generate_shop
from assistant.shop.schema import ShopData


@pytest.fixture(scope="session")
def small_shop() -> ShopData:
    """A small Maple & Moss shop (demo customers included); tests copy it before changing anything."""
    return generate_shop(seed=11, users=40, orders=90)
