"""Plain data objects shared by the rest of the package."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    """A sellable item in the catalogue.

    Attributes:
        sku: Stock-keeping unit, unique per product.
        name: Display name; any Unicode text.
        price: Unit price in euros, excluding VAT.
        category: Free-form category, e.g. ``"drinks"``.

    Raises:
        ValueError: If ``price`` is negative.
    """

    sku: str
    name: str
    price: Decimal
    category: str = "general"

    def __post_init__(self) -> None:
        if self.price < 0:
            raise ValueError(f"price must not be negative: {self.price}")


@dataclass
class LineItem:
    product: Product
    quantity: int = 1

    @property
    def total(self) -> Decimal:
        return self.product.price * self.quantity

    def describe(self) -> str:
        return f"{self.quantity} × {self.product.name}"


@dataclass
class Customer:
    """Someone who buys things.

    Attributes:
        customer_id: Identifier of the customer account.
        name: Display name.
        email: Where receipts are sent, if known.
        loyalty_points: Points collected on earlier orders.
        tags: Labels such as ``"member"`` or ``"staff"``.
    """

    customer_id: str
    name: str
    email: str | None = None
    loyalty_points: int = 0
    tags: list[str] = field(default_factory=list)

    @property
    def is_member(self) -> bool:
        return self.loyalty_points > 0 or "member" in self.tags

    def contact(self) -> str:
        if self.email == None:
            return self.name
        return f"{self.name} <{self.email}>"
