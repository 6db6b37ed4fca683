"""The HTML report in real headless Chromium: it renders, shows its Japanese sections, and the
page asks the network for nothing. The screenshot is kept in tests/artifacts/ for people."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import lxml.html
import pytest

from etl.report import load_run_report, write_reports
from tests.report.conftest import PASS_META, copy_run

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WINDOW = (1280, 2000)
# The machine's network is closed: without the background-networking flags Chromium spends its
# start retrying Google's hosts (machine notes, python.md).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def run_chromium(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(chromium), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def page_requests(net_log: Path) -> list[str]:
    """http(s) requests the *page* started, from Chromium's NetLog. Chromium's own background
    requests (initiator 'not an origin') are the browser's business, not the report's."""
    log = json.loads(net_log.read_text("utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start
        and e.get("params", {}).get("url", "").startswith(("http:", "https:"))
        and e["params"].get("initiator") != "not an origin"
    ]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize(
    ("name", "meta"),
    [
        ("report-test1", PASS_META),
        ("report-override", {**PASS_META, "pass": "production", "override": "課長承認により実施"}),
    ],
)
def test_report_renders_in_chromium(
    chromium: Path, sample_run: Path, tmp_path: Path, name: str, meta: dict[str, object]
) -> None:
    run = copy_run(sample_run, tmp_path / "run", meta)
    html = write_reports(load_run_report(run), run)["html"]
    url = html.resolve().as_uri()

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    run_chromium(
        chromium,
        tmp_path / "p1",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        url,
    )
    assert shot.exists(), "Chromium wrote no screenshot"
    assert png_size(shot) == WINDOW
    assert shot.stat().st_size > 50_000, "screenshot looks blank"

    net_log = tmp_path / "net.json"
    dom = run_chromium(chromium, tmp_path / "p2", f"--log-net-log={net_log}", "--dump-dom", url)
    doc = lxml.html.document_fromstring(dom.stdout)
    assert [h.text_content() for h in doc.iter("h2")] == ["概要", "件数", "検査結果"]
    assert bool(doc.find_class("override")) == bool(meta.get("override"))
    assert page_requests(net_log) == []


def test_net_log_check_sees_page_requests(chromium: Path, tmp_path: Path) -> None:
    """The no-request assertion above is only worth something if it catches a real fetch."""
    page = tmp_path / "external.html"
    page.write_text(
        '<html><body><img src="http://192.0.2.1/x.png">'
        '<link rel="stylesheet" href="https://example.invalid/a.css"></body></html>',
        "utf-8",
    )
    net_log = tmp_path / "net.json"
    run_chromium(chromium, tmp_path / "p", f"--log-net-log={net_log}", "--dump-dom", page.as_uri())
    assert sorted(page_requests(net_log)) == [
        "http://192.0.2.1/x.png",
        "https://example.invalid/a.css",
    ]
