"""Payment gateways."""

from __future__ import annotations

import asyncio
import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import PaymentDeclinedError, PaymentError
from .models import Customer
from .utils import chunked


@dataclass(frozen=True)
class PaymentResult:
    transaction_id: str
    amount: Decimal
    reference: str | None = None


class PaymentGateway(ABC):
    """Interface every payment provider implements."""

    @abstractmethod
    def charge(
        self,
        amount: Decimal,
        *,
        customer: Customer | None = None,
        reference: str | None = None,
    ) -> PaymentResult:
        """Take ``amount`` from the customer.

        Args:
            amount: Amount in euros, must be positive.
            customer: Who pays; ``None`` for guest checkouts.
            reference: Merchant reference shown on the statement.

        Returns:
            The completed payment.

        Raises:
            PaymentDeclinedError: If the provider refuses the charge.
        """

    @abstractmethod
    def refund(self, transaction_id: str) -> None: ...

    async def charge_async(self, amount: Decimal, **kwargs: Any) -> PaymentResult:
        # Real providers would await an HTTP call here.
        await asyncio.sleep(0)
        return self.charge(amount, **kwargs)


class FakeGateway(PaymentGateway):
    """A gateway for tests and demos that never talks to a network.

    Args:
        limit: Charges above this amount are declined.
    """

    def __init__(self, limit: Decimal = Decimal("1000")) -> None:
        self.limit = limit
        self.charges: dict[str, PaymentResult] = {}
        self.refunded: set[str] = set()
        self._ids = itertools.count(1)

    def charge(self, amount, *, customer=None, reference=None):
        if amount <= 0:
            raise PaymentError(f"cannot charge {amount}")
        if amount > self.limit:
            raise PaymentDeclinedError(amount, "over limit")
        result = PaymentResult(f"fake-{next(self._ids):04d}", amount, reference)
        self.charges[result.transaction_id] = result
        return result

    def refund(self, transaction_id: str) -> None:
        if transaction_id not in self.charges:
            raise PaymentError(f"unknown transaction {transaction_id}")
        if transaction_id in self.refunded:
            raise PaymentError(f"{transaction_id} was already refunded")
        self.refunded.add(transaction_id)


async def charge_many(
    gateway: PaymentGateway,
    amounts: Iterable[Decimal],
    *,
    batch_size: int = 5,
    **kwargs: Any,
) -> list[PaymentResult]:
    """Charge several amounts concurrently, a batch at a time.

    Args:
        gateway: The gateway to charge through.
        amounts: Amounts to charge, in order.
        batch_size: How many charges may be in flight at once.
        **kwargs: Passed on to :meth:`PaymentGateway.charge`.

    Returns:
        One result per amount, in the same order as ``amounts``.

    Raises:
        PaymentDeclinedError: If any charge is declined; earlier batches
            are not refunded.
    """
    results: list[PaymentResult] = []
    for batch in chunked(amounts, batch_size):
        results.extend(
            await asyncio.gather(*(gateway.charge_async(a, **kwargs) for a in batch))
        )
    return results
