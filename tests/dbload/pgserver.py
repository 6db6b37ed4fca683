"""A throwaway PostgreSQL server from Debian's packages, for tests and benchmarks.

initdb in a fresh folder under /var/tmp (root's /tmp is 0700 here, so the server user could not
reach it), owned by an unprivileged user when we are root (initdb refuses root), listening on a
free port on 127.0.0.1 with its unix socket in that folder; trust auth, stopped and removed
afterwards. ``install()`` puts Debian's ``postgresql`` in place with apt-get when running as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"  # created by Debian's package; made here when missing


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


def install() -> str | None:
    """Install Debian's server when missing; return why it cannot be had, or None when it is."""
    if find_bindir() is not None:
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "PostgreSQL server binaries not found and apt-get is not usable (not root)"
    # apt's signature check runs as _apt, which cannot use a private /tmp
    env = {**os.environ, "TMPDIR": "/var/tmp", "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", "postgresql"], env=env, capture_output=True, text=True
    )
    if find_bindir() is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"apt-get install postgresql failed: {tail[0]}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PgServer:
    bindir: Path
    root: Path  # data/, the socket and the log live here
    port: int
    as_user: str | None  # run the server binaries as this user (we are root)

    @property
    def url(self) -> str:
        return f"postgresql://chukan@127.0.0.1:{self.port}/chukan"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def psql(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", self.url, *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.root / "data"), "-m", "fast")
        shutil.rmtree(self.root, ignore_errors=True)


def _shared_tmp() -> str:
    """A temp folder the server user can pass through (root's /tmp may be 0700)."""
    for base in ("/var/tmp", "/dev/shm", tempfile.gettempdir()):
        if os.path.isdir(base) and os.stat(base).st_mode & stat.S_IXOTH:
            return base
    return tempfile.gettempdir()


def _ensure_user() -> None:
    if subprocess.run(["id", "-u", SERVER_USER], capture_output=True).returncode != 0:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            capture_output=True,
            check=True,
        )


def start(bindir: Path) -> PgServer:
    """initdb + start + createdb; raise RuntimeError with the server's words when it fails."""
    root = Path(tempfile.mkdtemp(prefix="chukan-pg-", dir=_shared_tmp()))
    as_user = None
    if os.geteuid() == 0:
        _ensure_user()
        as_user = SERVER_USER
        shutil.chown(root, SERVER_USER)
    server = PgServer(bindir, root, _free_port(), as_user)
    data = str(root / "data")
    steps = [
        [str(bindir / "initdb"), "-D", data, "-U", "chukan", "--auth=trust", "-E", "UTF8",
         "--locale=C", "--no-sync"],
        [str(bindir / "pg_ctl"), "start", "-w", "-D", data, "-l", str(root / "log"), "-o",
         f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"],
        [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "chukan",
         "chukan"],
    ]  # fmt: skip
    for step in steps:
        done = server._run(*step)
        if done.returncode != 0:
            log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
            server.stop()
            raise RuntimeError(f"{Path(step[0]).name} failed: {done.stderr.strip()} {log[-500:]}")
    return server
