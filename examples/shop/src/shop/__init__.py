"""A small example shop: catalogue, cart, pricing, stock keeping and checkout."""

from .cart import Cart
from .errors import OutOfStockError, ShopError
from .inventory import Inventory
from .models import Customer, LineItem, Product
from .orders import Order, checkout
from .payments import FakeGateway, PaymentGateway
from .pricing import BulkDiscount, DiscountRule, FixedAmountOff, PercentageOff, price_items

__version__ = "0.1.0"

__all__ = [
    "BulkDiscount",
    "Cart",
    "Customer",
    "DiscountRule",
    "FakeGateway",
    "FixedAmountOff",
    "Inventory",
    "LineItem",
    "Order",
    "OutOfStockError",
    "PaymentGateway",
    "PercentageOff",
    "Product",
    "ShopError",
    "checkout",
    "price_items",
]
