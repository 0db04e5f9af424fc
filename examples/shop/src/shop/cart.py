"""The shopping cart."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from .errors import CartError
from .models import Customer, LineItem, Product
from .pricing import DiscountRule, PercentageOff, PriceBreakdown, price_items


class Cart:
    """A customer's basket of line items, one line per product.

    Args:
        customer: Who the cart belongs to; ``None`` for guests.
    """

    def __init__(self, customer: Customer | None = None) -> None:
        self.customer = customer
        self.rules: list[DiscountRule] = []
        self._lines: dict[str, LineItem] = {}

    def add(self, product: Product, quantity: int = 1) -> LineItem:
        """Add units of a product, merging with an existing line for it.

        Args:
            product: What to add.
            quantity: How many units to add.
            price_override: Unit price to charge instead of the catalogue price.

        Returns:
            The updated line item.

        Raises:
            CartError: If ``quantity`` is not positive.
        """
        if quantity <= 0:
            raise CartError(f"quantity must be positive, got {quantity}")
        line = self._lines.get(product.sku)
        if line is None:
            line = self._lines[product.sku] = LineItem(product, 0)
        line.quantity += quantity
        return line

    def remove(self, sku: str, quantity: int | None = None) -> None:
        line = self._lines.get(sku)
        if line is None:
            raise CartError(f"{sku} is not in the cart")
        if quantity is None or quantity >= line.quantity:
            del self._lines[sku]
        else:
            line.quantity -= quantity

    def apply_code(self, code: str) -> DiscountRule:
        """Apply a promo code such as ``SAVE10`` to the cart.

        Args:
            code: The promo code, in any case.

        Returns:
            The discount rule created from the code.

        Raises:
            InvalidDiscountError: If the code is malformed.
        """
        rule = PercentageOff.from_code(code)
        self.rules.append(rule)
        return rule

    @property
    def items(self) -> list[LineItem]:
        return list(self._lines.values())

    def subtotal(self) -> Decimal:
        return sum((line.total for line in self._lines.values()), Decimal("0"))

    def total(self, extra_rules: Iterable[DiscountRule] = ()) -> PriceBreakdown:
        """Price the cart with its own rules plus ``extra_rules``.

        Args:
            extra_rules: Additional rules, e.g. store-wide promotions.

        Returns:
            The full price breakdown.
        """
        return price_items(self.items, [*self.rules, *extra_rules])

    def is_empty(self) -> bool:
        return not self._lines

    def clear(self):
        self._lines.clear()
        self.rules.clear()

    def __len__(self) -> int:
        return sum(line.quantity for line in self._lines.values())

    def __iter__(self) -> Iterator[LineItem]:
        return iter(self.items)
