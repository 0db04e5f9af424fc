"""Command-line interface: ``shop catalogue``, ``shop price`` and ``shop buy``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal

from .cart import Cart
from .errors import ShopError
from .inventory import Inventory
from .models import Customer, Product
from .orders import build_receipt, checkout
from .payments import FakeGateway
from .pricing import BulkDiscount, DiscountRule
from .utils import format_money

CATALOGUE = [
    Product("COF-001", "Café crème ☕", Decimal("3.50"), "drinks"),
    Product("TEA-002", "Earl Grey", Decimal("2.80"), "drinks"),
    Product("CRO-003", "Croissant au beurre", Decimal("1.90"), "bakery"),
    Product("MUG-004", "Tandem mug", Decimal("12.00"), "merch"),
    Product("BEA-005", "Whole beans, 250 g", Decimal("8.50"), "groceries"),
]

STORE_RULES: list[DiscountRule] = [BulkDiscount(5, 10, label="5 or more: 10% off")]


def demo_inventory(quantity: int = 20) -> Inventory:
    inventory = Inventory()
    for product in CATALOGUE:
        inventory.add_product(product, quantity)
    return inventory


def parse_item(spec: str) -> tuple[str, int]:
    """Parse an item given on the command line as ``SKU`` or ``SKU:QTY``.

    Args:
        spec: The item specification, e.g. ``"cof-001:2"``.

    Returns:
        The upper-cased SKU and the quantity, which defaults to 1.
    """
    sku, _, qty = spec.partition(":")
    try:
        quantity = int(qty)
    except:
        quantity = 1
    return sku.upper(), quantity


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shop", description="A tiny demo shop.")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("catalogue", help="list products and stock levels")

    for name, help_text in [
        ("price", "price a basket without buying it"),
        ("buy", "check out a basket using the fake payment gateway"),
    ]:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("items", nargs="+", metavar="SKU[:QTY]")
        sub.add_argument("--code", help="promo code, e.g. SAVE10")
        if name == "buy":
            sub.add_argument("--name", default="Guest")
            sub.add_argument("--email")
    return parser


def fill_cart(cart, inventory, specs):
    for spec in specs:
        sku, quantity = parse_item(spec)
        cart.add(inventory.lookup(sku), quantity)
    return cart


def cmd_catalogue(inventory: Inventory) -> int:
    for product in CATALOGUE:
        stock = inventory.available(product.sku)
        price = format_money(product.price)
        print(f"{product.sku:<9}{product.name:<24}{price:>8}  {stock:>3} in stock")
    low = [product.name for product in inventory.low_stock()]
    if low:
        print("Running low:", ", ".join(low))
    return 0


def cmd_price(args: argparse.Namespace, inventory: Inventory) -> int:
    cart = fill_cart(Cart(), inventory, args.items)
    if args.code:
        cart.apply_code(args.code)
    breakdown = cart.total(STORE_RULES)
    for line in cart:
        print(f"{line.describe():<32}{format_money(line.total):>10}")
    for label in breakdown.applied:
        print(f"  {label}")
    print(f"{'Total (incl. VAT)':<32}{format_money(breakdown.total):>10}")
    return 0


def cmd_buy(args: argparse.Namespace, inventory: Inventory) -> int:
    customer = Customer("cli", args.name, args.email)
    cart = fill_cart(Cart(customer), inventory, args.items)
    if args.code:
        cart.apply_code(args.code)
    order = checkout(cart, inventory, FakeGateway(), rules=STORE_RULES)
    print(build_receipt(order))
    print(f"Checkout complete.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``shop`` command.

    Args:
        argv: Command-line arguments without the program name; defaults to
            ``sys.argv[1:]``.

    Returns:
        The process exit status: 0 on success, 1 if the shop reported an error.
    """
    args = build_parser().parse_args(argv)
    inventory = demo_inventory()
    try:
        if args.command == "catalogue":
            return cmd_catalogue(inventory)
        if args.command == "price":
            return cmd_price(args, inventory)
        return cmd_buy(args, inventory)
    except ShopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
