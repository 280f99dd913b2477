"""Fixtures: a throwaway webhook app served over real HTTP, and a twin pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

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
def twin(fake_app: FakeApp) -> Iterator[Twin]:
    """A running twin whose number points at fake_app; fast simulated time."""
    tw = Twin(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        phone_number=LINE,
        voice_url=fake_app.url("/voice"),
        status_callback=fake_app.url("/status"),
        sms_url=fake_app.url("/sms"),
        time_scale=0.02,
    )
    tw.start()
    yield tw
    tw.stop()
    assert fake_app.bad_signatures == [], "the twin sent a request with a bad signature"
