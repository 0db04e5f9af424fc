"""Discount rules and price calculation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .errors import InvalidDiscountError
from .models import LineItem

CENT = Decimal("0.01")
VAT_RATE = Decimal("0.20")

_PROMO_CODE = re.compile(r"([A-Z]+)(\d{1,3})")


class DiscountRule:
    """Base class for discount rules.

    A rule looks at the line items in a cart and returns the amount to take
    off the subtotal. Subclasses override :meth:`apply`.

    Args:
        label: Text shown on receipts. Defaults to the class's ``name``.
    """

    name = "discount"

    def __init__(self, *, label: str | None = None) -> None:
        self.label = label or self.name

    def apply(self, items: Sequence[LineItem], subtotal: Decimal) -> Decimal:
        """Return the discount for ``items``; the base rule gives none.

        Args:
            items: Line items being priced.
            subtotal: Sum of the line totals before any discount.

        Returns:
            The amount to subtract from the subtotal, never negative.
        """
        return Decimal("0")

    def describe(self) -> str:
        return self.label

    @staticmethod
    def round_money(amount: Decimal) -> Decimal:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(label={self.label!r})"


class PercentageOff(DiscountRule):
    """Take a fixed percentage off the whole subtotal.

    Args:
        percent: Percentage to take off, greater than 0 and at most 100.
        label: Text shown on receipts.

    Raises:
        InvalidDiscountError: If ``percent`` is out of range.
    """

    name = "percentage off"

    def __init__(self, percent: Decimal | int, *, label: str | None = None) -> None:
        super().__init__(label=label)
        percent = Decimal(percent)
        if not 0 < percent <= 100:
            raise InvalidDiscountError(f"percent must be in (0, 100], got {percent}")
        self.percent = percent

    @classmethod
    def from_code(cls, code: str) -> PercentageOff:
        """Build a rule from a promo code such as ``"SAVE15"``.

        Args:
            code: Promo code: letters followed by the percentage.

        Returns:
            A rule labelled with the normalised code.

        Raises:
            InvalidDiscountError: If the code is malformed or the percentage
                is out of range.
        """
        code = code.strip().upper()
        match = _PROMO_CODE.fullmatch(code)
        if match is None:
            raise InvalidDiscountError(f"not a promo code: {code!r}")
        return cls(int(match.group(2)), label=code)

    def apply(self, items: Sequence[LineItem], subtotal: Decimal) -> Decimal:
        return self.round_money(subtotal * self.percent / 100)

    def describe(self) -> str:
        return f"{super().describe()} (-{self.percent}%)"


class BulkDiscount(DiscountRule):
    """Take a percentage off every line with at least ``min_quantity`` units.

    Args:
        min_quantity: Smallest quantity on a line that earns the discount.
        percent: Percentage taken off each qualifying line.
        label: Text shown on receipts.
    """

    name = "bulk discount"

    def __init__(
        self, min_quantity: int, percent: Decimal | int = 10, *, label: str | None = None
    ) -> None:
        super().__init__(label=label)
        self.min_quantity = min_quantity
        self.percent = Decimal(percent)

    def apply(self, items, subtotal):
        discount = Decimal("0")
        for item in items:
            if item.quantity > self.min_quantity:
                discount += item.total * self.percent / 100
        return self.round_money(discount)


class FixedAmountOff(DiscountRule):
    name = "voucher"

    def __init__(
        self,
        amount: Decimal | int | str,
        *,
        minimum_spend: Decimal | int | str = 0,
        label: str | None = None,
    ) -> None:
        super().__init__(label=label)
        self.amount = Decimal(amount)
        self.minimum_spend = Decimal(minimum_spend)

    def apply(self, items: Sequence[LineItem], subtotal: Decimal) -> Decimal:
        if subtotal < self.minimum_spend:
            return Decimal("0")
        return min(self.amount, subtotal)


@dataclass(frozen=True)
class PriceBreakdown:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    applied: tuple[str, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.tax


def price_items(
    items: Sequence[LineItem],
    rules: Iterable[DiscountRule] = (),
    *,
    vat_rate: Decimal = VAT_RATE,
) -> PriceBreakdown:
    """Work out subtotal, discount, VAT and total for ``items``.

    Every rule sees the undiscounted subtotal and the discounts are added up;
    the combined discount never exceeds the subtotal. VAT is charged on the
    discounted amount.

    Args:
        items: Line items to price.
        rules: Discount rules to apply.
        vat_rate: VAT as a fraction, e.g. ``Decimal("0.20")`` for 20 %.

    Returns:
        The price breakdown, with the descriptions of the rules that applied.
    """
    subtotal = sum((item.total for item in items), Decimal("0"))
    discount = Decimal("0")
    applied: list[str] = []
    for rule in rules:
        amount = rule.apply(items, subtotal)
        if amount > 0:
            discount += amount
            applied.append(rule.describe())
    discount = min(discount, subtotal)
    tax = DiscountRule.round_money((subtotal - discount) * vat_rate)
    return PriceBreakdown(subtotal, discount, tax, tuple(applied))
