"""Twilio's REST errors read in one place: what each code the line meets means for it."""

from __future__ import annotations

import traceback

import pytest

from app.telephony import rest
from app.telephony.rest import Verdict, classify

CODES = [
    (404, 20404, Verdict.GONE),  # Not Found
    (400, 21220, Verdict.GONE),  # Call is not in-progress. Cannot redirect.
    (400, 16022, Verdict.GONE),  # Conference does not exist or is completed
    (400, 20009, Verdict.NOT_YET),  # Cannot delete this resource before it is complete
    (409, 20009, Verdict.NOT_YET),  # by its code, whatever HTTP status it comes with
    (429, 20429, Verdict.RETRY),
    (400, 30001, Verdict.RETRY),  # Queue overflow
    (400, 21610, Verdict.OPTED_OUT),
    (400, 21211, Verdict.PERMANENT),  # Invalid 'To' Phone Number
    (401, 20003, Verdict.PERMANENT),  # bad credentials: trying again will not help
    (503, None, Verdict.RETRY),
    (None, None, Verdict.RETRY),  # no answer at all
    (404, None, Verdict.GONE),
    (400, 21000, Verdict.PERMANENT),
]


@pytest.mark.parametrize(("status", "code", "verdict"), CODES)
def test_each_error_the_line_meets_has_one_meaning(status, code, verdict):
    assert classify(status, code) is verdict
    error = rest.TelephonyError("x", status, code)
    assert error.retryable == (verdict in (Verdict.RETRY, Verdict.NOT_YET))


@pytest.mark.parametrize(
    ("code", "kind"), [(21220, rest.Gone), (20404, rest.Gone), (21610, rest.OptedOut)]
)
def test_gone_and_opted_out_are_raised_as_their_own_errors(app, twin_api, code, kind):
    twin_api.rest_faults.add(status=400 if code != 20404 else 404, code=code, method="POST")
    with app.app_context(), pytest.raises(kind) as raised:
        rest.redirect_call("CA" + "1" * 32, "http://line.test/x")
    assert raised.value.code == code


def test_an_error_keeps_no_phone_number_from_twilios_text_or_the_url(app, twin_api):
    with app.app_context(), pytest.raises(rest.TelephonyError) as raised:
        rest.send_sms("5550100164", "hi", "http://line.test/s")  # 21211 names the number
    assert raised.value.verdict is Verdict.PERMANENT and raised.value.code == 21211
    assert "5550100164" not in str(raised.value)
    printed = "".join(traceback.format_exception(raised.value))  # as a log or RQ would keep it
    assert "Invalid 'To'" not in printed and "Unable to create record" not in printed
