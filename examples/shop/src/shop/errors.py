"""Exception hierarchy for the shop package."""

from __future__ import annotations

from decimal import Decimal


class ShopError(Exception):
    """Base class for every error raised by the shop package."""


class InventoryError(ShopError):
    pass


class UnknownProductError(InventoryError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown product: {sku}")
        self.sku = sku


class OutOfStockError(InventoryError):
    """Raised when a reservation asks for more units than are available.

    Attributes:
        sku: The product that ran out.
        requested: Units asked for.
        available: Units actually available.
    """

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: requested {requested}, only {available} available")
        self.sku = sku
        self.requested = requested
        self.available = available


class CartError(ShopError):
    pass


class EmptyCartError(CartError):
    """Raised when checking out a cart that has no items."""


class InvalidDiscountError(ShopError):
    pass


class PaymentError(ShopError):
    """Base class for payment failures."""


class PaymentDeclinedError(PaymentError):
    def __init__(self, amount: Decimal, reason: str = "declined") -> None:
        super().__init__(f"payment of {amount} declined: {reason}")
        self.amount = amount
        self.reason = reason
