"""Small helpers used across the package."""

from __future__ import annotations

import functools
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

logger = logging.getLogger("shop")

CURRENCY_SYMBOL = "€"


def log_calls(func: Callable[P, R]) -> Callable[P, R]:
    """Log each call to ``func`` at debug level, with how long it took.

    Args:
        func: The function to wrap.

    Returns:
        A wrapper with the same signature and metadata as ``func``.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            elapsed_ms = (time.perf_counter() - start) * 1000
            logger.debug("%s took %.1f ms", func.__qualname__, elapsed_ms)

    return wrapper


def format_money(amount: Decimal, symbol: str = CURRENCY_SYMBOL) -> str:
    """Format an amount the way receipts show it, e.g. ``"€1,234.50"``.

    Args:
        amount: The amount to format; negative amounts get a leading minus.
        symbol: Currency symbol placed before the number.

    Returns:
        The formatted amount with two decimal places.
    """
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def chunked(iterable: Iterable[T], size: int) -> Iterator[list[T]]:
    if size < 1:
        raise ValueError("size must be at least 1")
    chunk: list[T] = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def slugify(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
