"""Fixtures: the Stripe stand-in answering the app's API calls (no phones dialling)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from twin import Twin
from twin.payments import CheckoutDesk


@pytest.fixture
def stripe_api(app) -> Iterator[CheckoutDesk]:
    """The stand-in's Stripe account, which the app's API calls reach."""
    with Twin() as tw:
        app.config["STRIPE_API_BASE"] = tw.api_base
        yield tw.checkout
