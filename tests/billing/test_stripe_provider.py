"""Stripe's shapes: the fixtures are Stripe's, and a signed payload of any shape is answered."""

from __future__ import annotations

import copy
import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.billing.support import EVENTS, FIXTURES, SUB, fixture, identity_of, post, recorded
from tests.support import STRIPE_EXAMPLES, shape_differences
from twin.payments import objects


@pytest.fixture(scope="module")
def examples() -> dict:
    """Stripe's example objects, or a skip when the shared folder is absent."""
    if not STRIPE_EXAMPLES.exists():
        pytest.skip(f"Stripe's example objects not found at {STRIPE_EXAMPLES}")
    return json.loads(STRIPE_EXAMPLES.read_text())["resources"]


def event_differences(event: dict, resources: dict) -> list[str]:
    """Where an event, or the object it carries, is not shaped like Stripe's examples."""
    envelope = {**event, "data": None}
    found = shape_differences(envelope, resources["event"], "event")
    obj = event["data"]["object"]
    found += shape_differences(obj, resources[obj["object"]], obj["object"])
    extra = set(event["data"]) - {"object", "previous_attributes"}
    return found + [f"event.data.{key}: not Stripe's" for key in sorted(extra)]


@pytest.mark.parametrize("name", EVENTS)
def test_each_fixture_event_has_stripes_shape(examples, name):
    assert event_differences(fixture(name, "id"), examples) == []


def test_the_subscription_fixture_has_stripes_shape(examples):
    sub = fixture("subscription", "id")
    assert shape_differences(sub, examples["subscription"], "subscription") == []
    assert "current_period_end" not in sub  # basil: the period sits on the items
    assert sub["items"]["data"][0]["current_period_end"]


def test_the_stand_in_carries_stripes_examples(examples):
    for name in ("event", "checkout.session", "subscription", "invoice"):
        assert objects.shape(name) == examples[name], name


def test_every_fixture_is_one_of_the_stand_ins_shapes():
    """The same check without the shared folder: against the stand-in's copy of Stripe's."""
    resources = {k: objects.shape(k) for k in ("event", "checkout.session", "subscription")}
    resources["invoice"] = objects.shape("invoice")
    for path in sorted(FIXTURES.glob("*.json")):
        found = json.loads(path.read_text())
        if found["object"] == "event":
            assert event_differences(found, resources) == [], path.name
        else:
            assert shape_differences(found, resources[found["object"]]) == [], path.name


def _broken(app, change) -> dict:
    event = fixture("invoice.paid", identity_of(app))
    change(event)
    return event


def _set(path: str, value):
    def change(event: dict) -> None:
        *parents, last = path.split(".")
        holder = event
        for key in parents:
            holder = holder[key]
        holder[last] = value

    return change


UNUSABLE = {
    "not JSON": b"{not json",
    "JSON, not an object": b"[1, 2, 3]",
    "null": b"null",
    "no id": _set("id", None),
    "a numeric id": _set("id", 12),
    "an id too long to be Stripe's": _set("id", "evt_" + "x" * 200),
    "a numeric type": _set("type", 7),
    "no data": _set("data", None),
    "data as a list": _set("data", []),
    "no object": _set("data.object", None),
    "the object as text": _set("data.object", "in_1"),
    "parent as a list": _set("data.object.parent", ["x"]),
    "a numeric subscription": _set("data.object.parent.subscription_details.subscription", 5),
    "the subscription as an object": _set(
        "data.object.parent.subscription_details.subscription", {"object": "subscription"}
    ),
    "metadata as text": _set("data.object.parent.subscription_details.metadata", "x"),
    "an identity too long": _set(
        "data.object.parent.subscription_details.metadata", {"identity": "a" * 65}
    ),
    "a numeric customer": _set("data.object.customer", 3.5),
    "a subscription Stripe does not know": _set(
        "data.object.parent.subscription_details.subscription", "sub_unknown"
    ),
}


@pytest.mark.parametrize("case", UNUSABLE, ids=list(UNUSABLE))
def test_a_signed_event_of_an_unexpected_shape_gets_400_and_a_clear_log_line(
    client, app, stripe_api, caplog, case
):
    identity = identity_of(app)
    with stripe_api.lock:
        stripe_api.subscriptions[SUB] = fixture("subscription", identity)
    wrong = UNUSABLE[case]
    body = wrong if isinstance(wrong, bytes) else _broken(app, wrong)
    with caplog.at_level(logging.WARNING):
        response = post(client, app, body)
    assert response.status_code == 400 and response.json == {"error": "unusable event"}
    assert "signed but unusable" in caplog.text
    assert identity not in caplog.text  # the log line names no caller
    assert recorded(app) == (0, 0)


@pytest.mark.parametrize(
    ("field", "value"), [("payment_status", "mystery"), ("payment_status", None)]
)
def test_a_checkout_with_an_unknown_payment_status_is_not_taken_for_paid(
    client, app, stripe_api, field, value
):
    event = fixture("checkout.session.completed", identity_of(app))
    event["data"]["object"][field] = value
    assert post(client, app, event).status_code == 400
    assert recorded(app) == (0, 0)


def test_a_subscription_status_the_line_does_not_know_is_not_taken_for_active(
    client, app, stripe_api
):
    identity = identity_of(app)
    with stripe_api.lock:
        stripe_api.subscriptions[SUB] = {**fixture("subscription", identity), "status": "new"}
    assert post(client, app, fixture("invoice.paid", identity)).status_code == 400
    assert recorded(app) == (0, 0)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))


READ = [  # the fields the line reads, and their parents
    ("id",),
    ("type",),
    ("data",),
    ("data", "object"),
    ("data", "object", "id"),
    ("data", "object", "object"),
    ("data", "object", "customer"),
    ("data", "object", "subscription"),
    ("data", "object", "metadata"),
    ("data", "object", "client_reference_id"),
    ("data", "object", "payment_status"),
    ("data", "object", "parent"),
    ("data", "object", "parent", "subscription_details"),
    ("data", "object", "parent", "subscription_details", "subscription"),
    ("data", "object", "parent", "subscription_details", "metadata"),
]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=st.sampled_from(EVENTS), data=st.data(), value=JSON)
def test_no_signed_payload_gets_a_500(client, app, stripe_api, name, data, value):
    """A field of an event (one the line reads, or any) set to any JSON value: 200 or 400."""
    identity = identity_of(app)
    with stripe_api.lock:
        stripe_api.subscriptions[SUB] = fixture("subscription", identity)
    event = fixture(name, identity)
    paths = list(_paths(event))
    path = data.draw(st.sampled_from([p for p in READ if p in paths]) | st.sampled_from(paths))
    if not path:
        event = value
    else:
        holder = event
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = copy.deepcopy(value)
    assert post(client, app, json.dumps(event).encode()).status_code in (200, 400)
