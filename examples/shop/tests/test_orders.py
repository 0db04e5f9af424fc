import asyncio
from decimal import Decimal

import pytest

from shop.cart import Cart
from shop.errors import EmptyCartError, OutOfStockError, PaymentDeclinedError
from shop.orders import checkout
from shop.payments import FakeGateway, charge_many


def test_checkout_takes_stock_and_payment(inventory, coffee, customer):
    cart = Cart(customer)
    cart.add(coffee, 2)
    gateway = FakeGateway()
    order = checkout(cart, inventory, gateway, reference="A-1")
    assert order.order_id == "A-1"
    assert order.total == Decimal("8.40")
    assert gateway.charges[order.transaction_id].amount == order.total
    assert inventory.available("COF-001") == 8
    assert cart.is_empty()


def test_checkout_empty_cart(inventory):
    with pytest.raises(EmptyCartError):
        checkout(Cart(), inventory, FakeGateway())


def test_declined_payment_releases_stock(inventory, mug):
    cart = Cart()
    cart.add(mug, 3)
    with pytest.raises(PaymentDeclinedError):
        checkout(cart, inventory, FakeGateway(limit=Decimal("10")))
    assert inventory.available("MUG-004") == 3
    assert len(cart) == 3


def test_out_of_stock_releases_earlier_lines(inventory, coffee, mug):
    cart = Cart()
    cart.add(coffee, 1)
    cart.add(mug, 4)
    with pytest.raises(OutOfStockError):
        checkout(cart, inventory, FakeGateway())
    assert inventory.available("COF-001") == 10


def test_charge_many_keeps_order():
    gateway = FakeGateway()
    amounts = [Decimal(n) for n in range(1, 8)]
    results = asyncio.run(charge_many(gateway, amounts, batch_size=3, reference="batch"))
    assert [r.amount for r in results] == amounts
    assert len(gateway.charges) == 7
