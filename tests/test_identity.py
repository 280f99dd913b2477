from __future__ import annotations

import copy
import pickle

import pytest

from app.identity import current, generation, identify

KEY = "k" * 32


@pytest.mark.parametrize(
    "raw",
    [
        "anonymous",
        "Restricted",
        "+266696687",
        "+7378742833",
        "+86282452253",
        "",
        None,
        "client:alice",
        "sip:someone@example.com",
        "12",
        "not a number",
    ],
)
def test_withheld_and_invalid_ids_get_a_per_call_identity(raw):
    first = identify(raw, KEY, "CA1")
    second = identify(raw, KEY, "CA2")
    assert first.withheld and second.withheld
    assert first.identity != second.identity
    assert first.masked == "withheld"


def test_same_number_in_any_format_is_one_identity():
    forms = ["+4915550000012", "+49 1555 0000012", "+49-155-5000-0012"]
    identities = {identify(raw, KEY, f"CA{i}").identity for i, raw in enumerate(forms)}
    assert len(identities) == 1
    caller = identify(forms[0], KEY, "CA9")
    assert caller.masked == "+49 ••• •••• 12"
    assert caller.country == "DE"
    assert "15550000012" not in caller.identity


def test_fictional_numbers_are_served_as_numbers():
    us = identify("+15550100042", KEY, "CA1")
    uk = identify("+447700900123", KEY, "CA1")
    assert not us.withheld and us.country == "US" and us.masked.endswith("42")
    assert not uk.withheld and uk.country == "GB"
    assert us.identity != identify("+15550100042", "other-key", "CA1").identity


def test_each_added_key_wraps_the_identity_once_and_marks_how_often():
    keys = ("k0" * 16, "k1" * 16, "k2" * 16)
    forms = identify("+15550100123", keys, "CA" + "0" * 32).forms
    assert [generation(form) for form in forms] == [0, 1, 2]
    assert forms[0] == identify("+15550100123", keys[0], "CA" + "0" * 32).identity
    assert forms[-1][-1] == "h" and len({len(form) for form in forms}) == 1
    assert current(forms[0], keys) == current(forms[1], keys) == forms[2]  # from any generation
    assert current(forms[2], keys) == forms[2]  # already there: left alone
    assert current(forms[0], keys[:2]) == forms[1]


def test_a_caller_keeps_its_number_to_itself():
    caller = identify("+447700900123", KEY, "CA1")
    assert "7700900123" not in repr(caller)
    with pytest.raises(TypeError):
        pickle.dumps(caller)
    with pytest.raises(TypeError):
        copy.copy(caller)
