"""Fixtures: a throwaway webhook app served over real HTTP, and a twin pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.twin.support import ACCOUNT_SID, AUTH_TOKEN, LINE, FakeApp
from twin import Twin


@pytest.fixture
def fake_app() -> Iterator[FakeApp]:
    """The throwaway webhook app, running."""
    app = FakeApp()
    app.server.start()
    yield app
    app.server.stop()


@pytest.fixture
def twin_with(fake_app: FakeApp) -> Iterator[Callable[..., Twin]]:
    """Start a twin pointed at fake_app with these knobs (fast simulated time by default)."""
    started: list[Twin] = []

    def start(**knobs) -> Twin:
        options = {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "phone_number": LINE,
            "voice_url": fake_app.url("/voice"),
            "status_callback": fake_app.url("/status"),
            "sms_url": fake_app.url("/sms"),
            "time_scale": 0.02,
            **knobs,
        }
        started.append(Twin(**options).start())
        return started[-1]

    yield start
    for tw in started:
        tw.stop()
    assert fake_app.bad_signatures == [], "the twin sent a request with a bad signature"


@pytest.fixture
def twin(twin_with) -> Twin:
    """A running twin whose number points at fake_app; fast simulated time."""
    return twin_with()
