"""Admin fixtures: an admin account, and a test client logged in as that admin."""

from __future__ import annotations

import pytest

from tests.admin.support import login, make_admin


@pytest.fixture
def admin_id(app) -> int:
    """An admin account in the fresh database."""
    return make_admin(app)


@pytest.fixture
def admin_client(app, client, admin_id):
    """The test client, logged in."""
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
