from decimal import Decimal

import pytest

from shop.errors import InvalidDiscountError
from shop.models import LineItem
from shop.pricing import (
    BulkDiscount,
    DiscountRule,
    FixedAmountOff,
    PercentageOff,
    price_items,
)


def test_base_rule_gives_no_discount(coffee):
    assert DiscountRule().apply([LineItem(coffee, 2)], Decimal("7.00")) == 0


def test_percentage_off(coffee):
    rule = PercentageOff(10)
    assert rule.apply([LineItem(coffee, 3)], Decimal("10.50")) == Decimal("1.05")


@pytest.mark.parametrize("percent", [0, -5, 101])
def test_percentage_off_rejects_out_of_range(percent):
    with pytest.raises(InvalidDiscountError):
        PercentageOff(percent)


def test_from_code_parses_percentage():
    rule = PercentageOff.from_code(" save15 ")
    assert rule.percent == 15
    assert rule.label == "SAVE15"
    assert rule.describe() == "SAVE15 (-15%)"


@pytest.mark.parametrize("code", ["", "SAVE", "15OFF", "SAVE0"])
def test_from_code_rejects_bad_codes(code):
    with pytest.raises(InvalidDiscountError):
        PercentageOff.from_code(code)


def test_bulk_discount_applies_to_large_lines_only(coffee, mug):
    rule = BulkDiscount(3, 20)
    items = [LineItem(coffee, 10), LineItem(mug, 1)]
    assert rule.apply(items, Decimal("47.00")) == Decimal("7.00")


def test_bulk_discount_ignores_small_lines(coffee):
    assert BulkDiscount(5).apply([LineItem(coffee, 1)], Decimal("3.50")) == 0


def test_fixed_amount_needs_minimum_spend(mug):
    rule = FixedAmountOff("5", minimum_spend=20)
    assert rule.apply([LineItem(mug, 1)], Decimal("12.00")) == 0
    assert rule.apply([LineItem(mug, 2)], Decimal("24.00")) == Decimal("5")


def test_round_money_rounds_half_up():
    assert DiscountRule.round_money(Decimal("1.005")) == Decimal("1.01")


def test_price_items_adds_vat_after_discount(coffee, mug):
    items = [LineItem(coffee, 2), LineItem(mug, 1)]  # 7.00 + 12.00
    breakdown = price_items(items, [FixedAmountOff(4)])
    assert breakdown.subtotal == Decimal("19.00")
    assert breakdown.discount == Decimal("4")
    assert breakdown.tax == Decimal("3.00")
    assert breakdown.total == Decimal("18.00")
    assert breakdown.applied == ("voucher",)


def test_discount_never_exceeds_subtotal(coffee):
    breakdown = price_items([LineItem(coffee, 1)], [FixedAmountOff(50)], vat_rate=Decimal("0"))
    assert breakdown.discount == Decimal("3.50")
    assert breakdown.total == 0
