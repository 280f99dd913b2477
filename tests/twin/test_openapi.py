"""The twin's REST JSON checked against Twilio's OpenAPI description (shared/twilio-oai)."""

from __future__ import annotations

import copy
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from tests.twin.support import LINE, twiml

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")

SPEC = Path(__file__).resolve().parents[3] / "shared" / "twilio-oai" / "twilio_api_v2010.yaml"
PREFIX = "/2010-04-01/Accounts/{AccountSid}"


@pytest.fixture(scope="module")
def spec() -> dict:
    """The parsed OpenAPI document, or a skip when the shared folder is absent."""
    if not SPEC.exists():
        pytest.skip(f"Twilio OpenAPI description not found at {SPEC}")
    return yaml.safe_load(SPEC.read_text())


def to_json_schema(node, spec: dict, strict: bool):
    """Turn an OpenAPI 3.0 schema into JSON Schema; strict objects need every property."""
    if isinstance(node, list):
        return [to_json_schema(item, spec, strict) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        target = copy.deepcopy(spec["components"]["schemas"][name])
        if "enum" in target:
            # enum refs carry no `nullable`, yet their descriptions document null (e.g.
            # reason_conference_ended while a conference is in progress)
            target["nullable"] = True
        return to_json_schema(target, spec, strict)
    out = {
        k: to_json_schema(v, spec, strict)
        for k, v in node.items()
        if k not in ("nullable", "x-twilio", "description", "example", "examples")
    }
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if out.get("type") == "object" and "properties" in out and strict:
        out["required"] = sorted(out["properties"])
        out["additionalProperties"] = False
    return out


def validator(spec: dict, path: str, method: str, status: str):
    """A validator for one operation's response body."""
    raw = spec["paths"][PREFIX + path][method]["responses"][status]
    schema = to_json_schema(
        copy.deepcopy(raw["content"]["application/json"]["schema"]), spec, strict=True
    )
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time-rfc-2822", raises=(TypeError, ValueError))
    def rfc2822(value) -> bool:
        return value is None or parsedate_to_datetime(value) is not None

    return jsonschema.Draft7Validator(schema, format_checker=checker)


def check(spec: dict, resp: requests.Response, path: str, method: str) -> dict:
    """Assert a response matches its documented status and schema; return its JSON."""
    status = str(resp.status_code)
    assert status in spec["paths"][PREFIX + path][method]["responses"], resp.text
    body = resp.json()
    errors = sorted(validator(spec, path, method, status).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return body


def test_rest_responses_match_the_openapi_schemas(spec, twin, fake_app):
    fake_app.on("/voice", twiml('<Dial><Conference waitUrl="">room</Conference></Dial>'))
    fake_app.on("/say", twiml('<Say>Hello.</Say><Pause length="1000"/>'))
    api = f"{twin.api_base}/2010-04-01/Accounts/{twin.account_sid}"
    http = requests.Session()
    http.auth = (twin.account_sid, twin.auth_token)
    alice, bob = twin.dial("+15550100041"), twin.dial("+15550100042")
    alice.wait_until_in_conference()
    bob.wait_until_in_conference()
    conf = alice.conference_sid

    created = check(
        spec,
        http.post(
            f"{api}/Calls.json",
            data={"To": "+15550100043", "From": LINE, "Url": fake_app.url("/say")},
        ),
        "/Calls.json",
        "post",
    )
    sid = created["sid"]
    check(spec, http.get(f"{api}/Calls.json"), "/Calls.json", "get")
    check(spec, http.get(f"{api}/Calls/{sid}.json"), "/Calls/{Sid}.json", "get")
    check(
        spec,
        http.post(f"{api}/Calls/{sid}.json", data={"Status": "completed"}),
        "/Calls/{Sid}.json",
        "post",
    )

    check(spec, http.get(f"{api}/Conferences.json"), "/Conferences.json", "get")
    check(spec, http.get(f"{api}/Conferences/{conf}.json"), "/Conferences/{Sid}.json", "get")
    parts = f"{api}/Conferences/{conf}/Participants"
    listed = check(
        spec, http.get(f"{parts}.json"), "/Conferences/{ConferenceSid}/Participants.json", "get"
    )
    assert len(listed["participants"]) == 2
    one = "/Conferences/{ConferenceSid}/Participants/{CallSid}.json"
    check(spec, http.get(f"{parts}/{bob.sid}.json"), one, "get")
    check(spec, http.post(f"{parts}/{bob.sid}.json", data={"Hold": "true"}), one, "post")
    assert http.delete(f"{parts}/{bob.sid}.json").status_code == 204
    check(
        spec,
        http.post(f"{api}/Conferences/{conf}.json", data={"Status": "completed"}),
        "/Conferences/{Sid}.json",
        "post",
    )

    msg = check(
        spec,
        http.post(f"{api}/Messages.json", data={"To": "+15550100044", "From": LINE, "Body": "hi"}),
        "/Messages.json",
        "post",
    )
    check(spec, http.get(f"{api}/Messages.json"), "/Messages.json", "get")
    check(spec, http.get(f"{api}/Messages/{msg['sid']}.json"), "/Messages/{Sid}.json", "get")
    twin.delete_settle_seconds = 0  # the wait before deletion is pinned in test_rest
    twin.wait_for(lambda: twin.sms.messages[msg["sid"]].status == "delivered")
    assert http.delete(f"{api}/Messages/{msg['sid']}.json").status_code == 204
    twin.caller(sid).wait_until_ended()
    check(spec, http.get(f"{api}/Calls/{sid}.json"), "/Calls/{Sid}.json", "get")
    assert http.delete(f"{api}/Calls/{sid}.json").status_code == 204
