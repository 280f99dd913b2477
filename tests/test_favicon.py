"""The icon browsers ask for at /favicon.ico: served by the app, not a 404."""

from __future__ import annotations


def test_the_favicon_is_a_small_icon_served_by_the_app(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file, one image
    assert len(response.data) < 4096
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/static/favicon.ico").status_code == 404  # no static folder beside it
