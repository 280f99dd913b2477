"""Reading the admin as an operator does: a call's facts, outcome and timeline, from its HTML."""

from __future__ import annotations

import html
import re
from datetime import datetime

from sqlalchemy import select

from app.db import db
from app.line.models import Call
from tests.admin.support import login, make_admin
from tests.support import eventually

FACT = re.compile(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", re.S)
STEP = re.compile(r'<span class="what">(.*?)</span>', re.S)
BADGE = re.compile(r'<h1>Call \d+ <span class="badge[^"]*">(.*?)</span>', re.S)
WHEN = re.compile(r'<time datetime="([^"]+)"')
TAG = re.compile(r"<[^>]+>")
SECONDS = re.compile(r"^(?:(\d+) min )?(\d+) s$")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", fragment)).split())


class CallPage:
    """One call's admin page: its facts by name, its outcome, its timeline in words."""

    def __init__(self, page: str):
        self.html = page
        self.facts = {_text(name): _text(value) for name, value in FACT.findall(page)}
        found = BADGE.search(page)
        self.outcome = _text(found.group(1)) if found else None
        timeline = page[page.index('<ol class="timeline">') :]
        self.timeline = [_text(step) for step in STEP.findall(timeline)]
        self.times = [datetime.fromisoformat(moment) for moment in WHEN.findall(timeline)]

    def span(self) -> float:
        """Seconds from the first step on the timeline (the arrival) to the last."""
        return (max(self.times) - min(self.times)).total_seconds()

    def seconds(self, fact: str) -> int:
        """A duration fact ('42 s', '1 min 05 s') in seconds; fails on anything else."""
        found = SECONDS.match(self.facts[fact])
        assert found, f"{fact} reads {self.facts[fact]!r}"
        return int(found.group(1) or 0) * 60 + int(found.group(2))

    def shows_in_order(self, *steps: str) -> bool:
        """Whether these steps are on the timeline, in this order (others may come between)."""
        rest = iter(self.timeline)
        return all(any(step == seen for seen in rest) for step in steps)


class Operator:
    """An admin logged in to the running line's admin."""

    def __init__(self, line):
        self.line = line
        self.client = line.app.test_client()
        make_admin(line.app)
        assert login(self.client).status_code == 302

    def get(self, path: str) -> str:
        """An admin page's HTML."""
        response = self.client.get(path)
        assert response.status_code == 200, path
        return response.get_data(as_text=True)

    def call(self, caller) -> CallPage:
        """The page of the twin caller's call, once the line has recorded its end."""
        call_id = eventually(lambda: self._ended(caller.sid), timeout=15)
        return CallPage(self.get(f"/admin/calls/{call_id}"))

    def _ended(self, sid: str) -> int | None:
        with self.line.app.app_context():
            call = db.session.scalar(select(Call).where(Call.sid == sid))
            return call.id if call and call.state == "ended" and call.outcome else None
