"""Debian packages some tests need (headless Chromium, CJK and MJ fonts), installed when missing.

CI's .ci/run installs them first; a developer's machine gets them the first time such a test
runs (as root), and a machine where nothing can be installed skips those tests with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def apt_install(packages: tuple[str, ...], proof: Path) -> str | None:
    """Install ``packages`` with apt-get unless ``proof`` (a file they install) exists.
    Returns why they could not be installed, or None."""
    if proof.exists():
        return None
    apt = shutil.which("apt-get")
    if apt is None:
        return "apt-get is not available (not a Debian-like machine)"
    if os.geteuid() != 0:
        return f"not running as root, so apt-get cannot install {' '.join(packages)}"
    # apt's key check runs as the _apt user and writes to TMPDIR; a private /tmp (0700) breaks
    # it, so point it at the world-writable /var/tmp.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "TMPDIR": "/var/tmp"}
    install = [apt, "install", "-y", "-q", *packages]
    for step in ([apt, "update", "-q"], install):  # a failed update may still install
        try:
            done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(step[:2])} failed: {exc}"
        if done.returncode and step is install:
            return f"apt-get install failed: {done.stderr.strip()[-500:]}"
    return None if proof.exists() else f"{proof} still missing after apt-get install"
