"""Fault drills: each script breaks one part of the running line and checks what survives."""

from __future__ import annotations

import sys
import time

from bench.common import record


class Drill:
    """Collects checks, prints PASS/FAIL for each, records them, and exits non-zero on a FAIL."""

    def __init__(self, title: str):
        self.title = title
        self.checks: list[tuple[bool, str, str]] = []
        self.notes: list[str] = []
        self.started = time.monotonic()

    def check(self, ok: bool, what: str, detail: object = "") -> bool:
        """Record one expectation."""
        self.checks.append((bool(ok), what, str(detail)))
        print(f"{'PASS' if ok else 'FAIL'}: {what} {detail}", flush=True)
        return bool(ok)

    def note(self, text: str) -> None:
        """A measured figure or an observation worth keeping."""
        self.notes.append(text)
        print(f"note: {text}", flush=True)

    def finish(self) -> None:
        """Record the outcome in bench/RESULTS.md and exit 1 if any check failed."""
        failed = [c for c in self.checks if not c[0]]
        verdict = "FAIL" if failed or not self.checks else "PASS"
        rows = [f"**{verdict}** in {time.monotonic() - self.started:.0f} s", ""]
        rows += [
            f"- {'PASS' if ok else 'FAIL'}: {what} {detail}".rstrip()
            for ok, what, detail in self.checks
        ]
        rows += [f"- note: {text}" for text in self.notes]
        record(f"Drill: {self.title}", rows)
        print(verdict)
        sys.exit(1 if verdict == "FAIL" else 0)
