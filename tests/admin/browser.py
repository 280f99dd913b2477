"""Playwright with Debian's Chromium: found, or a clear reason why the browser tests skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENSURE = Path(__file__).resolve().parents[2] / "scripts" / "ensure-chromium"


def missing_reason() -> str | None:
    """None when Chromium is there (installing it if possible), else why it is not."""
    if os.path.exists(CHROMIUM):
        return None
    if shutil.which("apt-get") and os.geteuid() == 0:
        result = subprocess.run([str(ENSURE)], capture_output=True, text=True, timeout=600)
        if result.returncode == 0 and os.path.exists(CHROMIUM):
            return None
        return f"{CHROMIUM} is missing and scripts/ensure-chromium failed: {result.stderr[-300:]}"
    return f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)"
