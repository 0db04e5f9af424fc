"""Checkout: turning a cart into a paid order."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum

from .cart import Cart
from .errors import EmptyCartError, PaymentError
from .inventory import Inventory
from .models import Customer, LineItem
from .payments import PaymentGateway
from .pricing import DiscountRule, PriceBreakdown
from .utils import format_money, log_calls

logger = logging.getLogger(__name__)


class OrderStatus(Enum):
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass
class Order:
    """A paid order.

    Attributes:
        order_id: Short identifier printed on the receipt.
        customer: Who placed the order; ``None`` for guests.
        items: The line items that were bought.
        breakdown: How the total was worked out.
        transaction_id: The payment gateway's transaction.
        status: Whether the order is still paid or was cancelled.
        created_at: When the order was placed, in UTC.
    """

    order_id: str
    customer: Customer | None
    items: list[LineItem]
    breakdown: PriceBreakdown
    transaction_id: str
    status: OrderStatus = OrderStatus.PAID
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def total(self) -> Decimal:
        return self.breakdown.total


@log_calls
def checkout(
    cart: Cart,
    inventory: Inventory,
    gateway: PaymentGateway,
    *,
    rules: Iterable[DiscountRule] = (),
    reference: str | None = None,
) -> Order:
    """Reserve stock, take payment and return the resulting order.

    Stock is reserved before charging so two customers cannot both buy the
    last unit; if anything fails, every reservation is released again. On
    success the reserved units leave the inventory and the cart is emptied.

    Args:
        cart: The cart to check out.
        inventory: Where the stock comes from.
        gateway: Gateway used to take the payment.
        rules: Store-wide discount rules, on top of the cart's own.
        reference: Order reference; a random one is generated if omitted.

    Returns:
        The paid order.

    Raises:
        EmptyCartError: If the cart has no items.
        OutOfStockError: If a line cannot be reserved.
        PaymentDeclinedError: If the gateway declines the charge.
    """
    if cart.is_empty():
        raise EmptyCartError("cannot check out an empty cart")
    reserved: list[LineItem] = []
    try:
        for line in cart:
            inventory.reserve(line.product.sku, line.quantity)
            reserved.append(line)
        breakdown = cart.total(rules)
        payment = gateway.charge(
            breakdown.total, customer=cart.customer, reference=reference
        )
    except Exception:
        for line in reserved:
            inventory.release(line.product.sku, line.quantity)
        raise
    for line in reserved:
        inventory.commit(line.product.sku, line.quantity)

    order = Order(
        order_id=reference or uuid.uuid4().hex[:8],
        customer=cart.customer,
        items=cart.items,
        breakdown=breakdown,
        transaction_id=payment.transaction_id,
    )
    cart.clear()
    logger.info("order %s paid: %s", order.order_id, format_money(order.total))
    return order


def cancel_order(order: Order, inventory: Inventory, gateway: PaymentGateway) -> None:
    if order.status is OrderStatus.CANCELLED:
        return
    try:
        gateway.refund(order.transaction_id)
    except PaymentError:
        pass
    for line in order.items:
        inventory.restock(line.product.sku)
    order.status = OrderStatus.CANCELLED


def build_receipt(order: Order, footer: list[str] = []) -> str:
    lines = [f"Order {order.order_id} — {order.created_at:%Y-%m-%d %H:%M}"]
    if order.customer is not None:
        lines.append(f"Customer: {order.customer.contact()}")
    for item in order.items:
        lines.append(f"  {item.describe():<32}{format_money(item.total):>10}")

    breakdown = order.breakdown
    lines.append(f"  {'Subtotal':<32}{format_money(breakdown.subtotal):>10}")
    for label in breakdown.applied:
        lines.append(f"    {label}")
    if breakdown.discount:
        lines.append(f"  {'Discount':<32}{format_money(-breakdown.discount):>10}")
    lines.append(f"  {'VAT':<32}{format_money(breakdown.tax):>10}")
    lines.append(f"  {'Total':<32}{format_money(breakdown.total):>10}")

    footer.append("Merci et à bientôt !")
    lines.extend(footer)
    return "\n".join(lines)


def estimate_delivery(order: Order, *, express: bool = False) -> date:
    """Estimate when an order will arrive.

    Standard shipping takes three working days after the day the order was
    placed, express shipping one. Saturdays and Sundays are not working days.

    Args:
        order: A paid order.
        express: Whether the customer paid for express shipping.

    Returns:
        The expected delivery date.

    Raises:
        ValueError: If the order has been cancelled.
    """
    ...
