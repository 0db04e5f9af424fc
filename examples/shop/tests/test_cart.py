from decimal import Decimal

import pytest

from shop.cart import Cart
from shop.errors import CartError, InvalidDiscountError


def test_add_merges_lines_for_same_product(coffee, mug):
    cart = Cart()
    cart.add(coffee)
    cart.add(coffee, 2)
    cart.add(mug)
    assert len(cart) == 4
    assert [line.quantity for line in cart] == [3, 1]


@pytest.mark.parametrize("quantity", [0, -1])
def test_add_rejects_non_positive_quantity(coffee, quantity):
    with pytest.raises(CartError):
        Cart().add(coffee, quantity)


def test_remove_some_or_all_units(coffee, mug):
    cart = Cart()
    cart.add(coffee, 3)
    cart.add(mug)
    cart.remove("COF-001", 2)
    assert len(cart) == 2
    cart.remove("MUG-004")
    assert [line.product.sku for line in cart] == ["COF-001"]


def test_remove_unknown_sku():
    with pytest.raises(CartError):
        Cart().remove("NOPE")


def test_subtotal(coffee, mug):
    cart = Cart()
    cart.add(coffee, 2)
    cart.add(mug)
    assert cart.subtotal() == Decimal("19.00")


def test_total_applies_promo_code(coffee, customer):
    cart = Cart(customer)
    cart.add(coffee, 4)  # 14.00
    cart.apply_code("SAVE10")
    breakdown = cart.total()
    assert breakdown.discount == Decimal("1.40")
    assert breakdown.total == Decimal("15.12")


def test_bad_promo_code_is_not_added():
    cart = Cart()
    with pytest.raises(InvalidDiscountError):
        cart.apply_code("FREE")
    assert cart.rules == []


def test_clear_empties_cart(coffee):
    cart = Cart()
    cart.add(coffee)
    cart.apply_code("SAVE5")
    cart.clear()
    assert cart.is_empty()
    assert cart.rules == []
