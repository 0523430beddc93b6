"""Headless Chromium as the browser tests drive it (``apt-get install -y chromium``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(profile: Path, *args: str, window: str = "1280,3000") -> str:
    """Run headless Chromium with its own profile on ``args`` (a URL, --dump-dom, --screenshot=…);
    its standard output. The window is never narrower than 500 px, whatever ``window`` asks."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={window}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
