"""The control API serves the line's own commands only: JSON with the twin's token."""

from __future__ import annotations

import json

import pytest
import requests

from tests.twin.support import twiml

SMS = {"from": "+15550100061", "body": "JOIN"}


def _post(twin, path: str, **kwargs) -> requests.Response:
    return requests.post(f"{twin.api_base}/_twin{path}", timeout=5, **kwargs)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_cross_site_text_plain_post_sends_no_text(twin, fake_app):
    fake_app.on("/sms", twiml("<Message>Noted.</Message>"))
    # What a page on any site can send without a preflight: a "simple" request.
    simple = {"Content-Type": "text/plain", "Origin": "https://elsewhere.example"}
    assert _post(twin, "/sms", data=json.dumps(SMS), headers=simple).status_code == 401
    # Even with the token (which such a page cannot know), only JSON is taken.
    form = {**simple, **_bearer(twin.control_token)}
    assert _post(twin, "/sms", data=json.dumps(SMS), headers=form).status_code == 415
    urlencoded = _bearer(twin.control_token)
    assert _post(twin, "/sms", data=SMS, headers=urlencoded).status_code == 415
    assert fake_app.hits_for("/sms") == []


def test_a_preflight_is_never_granted(twin):
    preflight = requests.options(
        f"{twin.api_base}/_twin/sms",
        headers={
            "Origin": "https://elsewhere.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=5,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": ""}])
def test_json_without_the_token_is_refused(twin, fake_app, headers):
    assert _post(twin, "/sms", json=SMS, headers=headers).status_code == 401
    assert _post(twin, "/calls", json={"from": "+15550100062"}, headers=headers).status_code == 401
    listing = requests.get(f"{twin.api_base}/_twin/calls", headers=headers, timeout=5)
    assert listing.status_code == 401
    assert fake_app.hits_for("/sms") == [] and fake_app.hits_for("/voice") == []


def test_json_with_the_token_drives_the_twin(twin, fake_app):
    fake_app.on("/sms", twiml("<Message>Noted.</Message>"))
    response = _post(twin, "/sms", json=SMS, headers=_bearer(twin.control_token))
    assert response.status_code == 200 and response.json()["replies"] == ["Noted."]
    assert len(fake_app.hits_for("/sms")) == 1


def test_every_run_has_a_token_of_its_own():
    from twin import Twin  # noqa: PLC0415

    assert Twin().control_token != Twin().control_token
    assert len(Twin().control_token) >= 32
