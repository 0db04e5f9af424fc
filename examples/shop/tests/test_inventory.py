import pytest

from shop.errors import OutOfStockError, UnknownProductError


def test_lookup(inventory, coffee):
    assert inventory.lookup("COF-001") is coffee
    with pytest.raises(UnknownProductError):
        inventory.lookup("NOPE")


def test_check(inventory):
    assert inventory.check("COF-001", 10)
    assert not inventory.check("COF-001", 11)
    assert not inventory.check("NOPE")


def test_reserve_reduces_availability(inventory):
    inventory.reserve("MUG-004", 2)
    assert inventory.available("MUG-004") == 1


def test_reserve_more_than_available(inventory):
    inventory.reserve("MUG-004", 2)
    with pytest.raises(OutOfStockError) as info:
        inventory.reserve("MUG-004", 2)
    assert info.value.available == 1


def test_reserve_rejects_non_positive_quantity(inventory):
    with pytest.raises(ValueError):
        inventory.reserve("MUG-004", 0)


def test_release_and_commit(inventory):
    inventory.reserve("COF-001", 4)
    inventory.release("COF-001", 1)
    assert inventory.available("COF-001") == 7
    inventory.commit("COF-001", 3)
    assert inventory.available("COF-001") == 7
    inventory.release("COF-001", 5)  # nothing left to release
    assert inventory.available("COF-001") == 7


def test_low_stock_is_lazy(inventory, mug):
    low = inventory.low_stock(threshold=5)
    assert next(low) is mug
    assert list(low) == []


def test_membership(inventory):
    assert "COF-001" in inventory
    assert len(inventory) == 2
