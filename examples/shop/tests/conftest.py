"""Shared fixtures. Puts ``src`` on ``sys.path`` so the tests run without installing."""

import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from shop.inventory import Inventory  # noqa: E402
from shop.models import Customer, Product  # noqa: E402


@pytest.fixture
def coffee() -> Product:
    return Product("COF-001", "Café crème ☕", Decimal("3.50"), "drinks")


@pytest.fixture
def mug() -> Product:
    return Product("MUG-004", "Tandem mug", Decimal("12.00"), "merch")


@pytest.fixture
def customer() -> Customer:
    return Customer("c-42", "Zoë Martin", "zoe@example.com", loyalty_points=120)


@pytest.fixture
def inventory(coffee: Product, mug: Product) -> Inventory:
    inv = Inventory()
    inv.add_product(coffee, 10)
    inv.add_product(mug, 3)
    return inv
