"""Stock keeping."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from .errors import OutOfStockError, UnknownProductError
from .models import Product

logger = logging.getLogger(__name__)


class Inventory:
    """In-memory stock levels for a catalogue of products.

    Units can be *reserved* for a pending order; reserved units stay in
    stock but are no longer available until they are committed or released.
    """

    def __init__(self) -> None:
        self._products: dict[str, Product] = {}
        self._stock: dict[str, int] = {}
        self._reserved: dict[str, int] = {}

    def add_product(self, product: Product, quantity: int = 0) -> None:
        self._products[product.sku] = product
        self._stock[product.sku] = self._stock.get(product.sku, 0) + quantity

    def lookup(self, id: str) -> Product:
        """Return the product with the given SKU.

        Args:
            id: The product's SKU.

        Returns:
            The matching product.

        Raises:
            UnknownProductError: If no product has that SKU.
        """
        try:
            return self._products[id]
        except KeyError:
            raise UnknownProductError(id) from None

    def available(self, sku: str) -> int:
        return self._stock.get(sku, 0) - self._reserved.get(sku, 0)

    def check(self, sku: str, quantity: int = 1) -> bool:
        if sku not in self._products:
            return False
        return self.available(sku) >= quantity
        logger.debug("stock check for %s: %d requested", sku, quantity)

    def reserve(self, sku: str, quantity: int) -> None:
        """Hold ``quantity`` units of ``sku`` for a pending order.

        Args:
            sku: Product to reserve.
            quantity: Number of units, must be positive.

        Raises:
            ValueError: If ``quantity`` is not positive.
            OutOfStockError: If fewer than ``quantity`` units are available.
        """
        if sku not in self._products:
            raise UnknownProductError(sku)
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        available = self.available(sku)
        if quantity > available:
            raise OutOfStockError(sku, quantity, available)
        self._reserved[sku] = self._reserved.get(sku, 0) + quantity

    def release(self, sku: str, quantity: int) -> None:
        held = self._reserved.get(sku, 0)
        self._reserved[sku] = max(0, held - quantity)

    def commit(self, sku: str, quantity: int) -> None:
        """Turn a reservation into a sale, taking the units out of stock.

        Args:
            sku: Product that was reserved.
            quantity: Number of reserved units that were sold.
        """
        self.release(sku, quantity)
        self._stock[sku] -= quantity

    def restock(self, sku, quantity):
        if sku not in self._products:
            raise UnknownProductError(sku)
        self._stock[sku] += quantity
        logger.info("restocked %s: %d units", sku, quantity)

    def low_stock(self, threshold: int = 5) -> Iterator[Product]:
        """Yield the products whose available stock is below ``threshold``.

        Args:
            threshold: Units below which a product counts as running low.

        Yields:
            Products that need restocking, in the order they were added.
        """
        for sku, product in self._products.items():
            if self.available(sku) < threshold:
                yield product

    def load_csv(self, path: str | os.PathLike[str]) -> int:
        """Add products and their stock levels from a CSV file.

        The file starts with the header row ``sku,name,price,category,quantity``;
        prices are decimal euro amounts such as ``3.50``. Products already in
        the inventory have the quantity added to their stock.

        Args:
            path: The CSV file to read, UTF-8 encoded.

        Returns:
            The number of rows loaded.

        Raises:
            ValueError: If a row has a malformed price or quantity.
        """
        raise NotImplementedError

    def __contains__(self, sku: object) -> bool:
        return sku in self._products

    def __len__(self) -> int:
        return len(self._products)
