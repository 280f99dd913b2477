"""What the line says by text, and how many message segments each text is sent in."""

from __future__ import annotations

import pytest

from app.sms import texts


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("a" * 160, 1),  # GSM-7: 160 in one segment
        ("a" * 161, 2),  # then 153 each
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # the extension table takes two septets a character
        ("€" * 81, 2),
        ("Grüße, Åsa", 1),  # still GSM-7
        ("•" * 70, 1),  # one character outside it: UCS-2, 70 in one segment
        ("•" + "a" * 70, 2),  # then 67 each
        ("😀" * 35, 1),  # two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_follow_the_encoding(body, count):
    assert texts.segments(body) == count


def test_the_lines_short_texts_fit_one_segment_each():
    for body in (texts.CONFIRMATION, texts.STOPPED, texts.UNKNOWN, texts.WITHHELD):
        assert texts.segments(body) == 1, body
