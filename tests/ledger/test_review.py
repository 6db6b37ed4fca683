"""The 外字 review page: each open code's vendor glyph beside its candidates in IPAmj明朝,
one self-contained file (both fonts embedded as subsets), checked in headless Chromium."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner, Result
from fontTools.ttLib import TTFont

from etl.cli import cli
from etl.ledger import DEFAULT_MJ_FONT, MjFont
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from fixtures.gaiji_font import write_bdf, write_font
from tests.debian import apt_install
from tests.report.test_html_chromium import png_size, run_chromium

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
VENDOR = data_dir("mappings") / "vendor-a"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
UNMAPPED = "F0A0"
PUA = bytes.fromhex(UNMAPPED).decode("cp932")  # U+E05F: where the vendor font draws it


@pytest.fixture(scope="session")
def ipamj() -> MjFont:
    reason = apt_install(("fonts-ipamj-mincho",), DEFAULT_MJ_FONT)
    if reason:
        pytest.skip(f"IPAmj明朝 unavailable: {reason}")
    return MjFont(DEFAULT_MJ_FONT)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def page(tmp_path: Path, ipamj: MjFont) -> Path:
    run = tmp_path / "run"
    run_job(JobOptions(vendor_folder=VENDOR, dump_dir=SAMPLE, out_dir=run, gyomu=("juki",)))
    ledger = str(tmp_path / "l.duckdb")
    assert _cli("gaiji", "scan", str(run), "--ledger", ledger).exit_code == 0
    hint = _cli(
        "gaiji", "candidates", "--vendor", "vendor-a", "--hint", f"{UNMAPPED}=U+8FBB",
        "--ledger", ledger,
    )  # fmt: skip
    assert hint.exit_code == 0, hint.output
    font = write_font(tmp_path / "vendor-gaiji.tte", [UNMAPPED, "F040"])
    out = tmp_path / "review.html"
    res = _cli(
        "gaiji", "review", "--vendor", "vendor-a", "--vendor-font", str(font),
        "--out", str(out), "--ledger", ledger,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def _embedded(html: str, family: str) -> TTFont:
    m = re.search(
        rf'font-family: "{family}"; src: url\(data:font/ttf;base64,([A-Za-z0-9+/=]+)\)', html
    )
    assert m, f"no embedded {family}"
    return TTFont(io.BytesIO(base64.b64decode(m.group(1))))


def test_the_page_shows_the_vendor_glyph_beside_ivs_candidates_with_mj_names(page: Path) -> None:
    html = page.read_text("utf-8")
    doc = lxml.html.document_fromstring(html)
    (section,) = doc.xpath(f'//section[@id="code-{UNMAPPED}"]')
    glyphs = section.find_class("g")
    assert glyphs[0].text_content() == PUA  # the vendor's, drawn by its own font
    shown = [g.text_content() for g in glyphs[1:]]
    labels = " ".join(e.text_content() for e in section.find_class("label"))
    # 辻 and its MJ glyphs: the IVS sequences IPAmj明朝 has, each with its MJ文字図形名
    assert {"辻", "辻\U000e0102", "辻\U000e0103"} <= set(shown)
    assert "MJ025760" in labels and "MJ025761" in labels
    vendor = _embedded(html, "chukan-vendor-gaiji")
    assert ord(PUA) in vendor.getBestCmap() and 0xE000 not in vendor.getBestCmap()  # subset
    mj = _embedded(html, "chukan-ipamj")
    assert ord("辻") in mj.getBestCmap()
    uvs = next(t for t in mj["cmap"].tables if t.format == 14).uvsDict
    assert any(base == ord("辻") for base, _ in uvs[0xE0102])  # the IVS glyph came along
    assert "http" not in html.replace("https://moji.or.jp", "") and "<link" not in html
    assert not doc.xpath("//*[@src]")


def test_the_review_page_renders_in_chromium(page: Path, chromium: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "gaiji-review.png"
    shot.unlink(missing_ok=True)
    run_chromium(
        chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900",
        page.resolve().as_uri(),
    )  # fmt: skip
    assert png_size(shot) == (1280, 900)
    assert shot.stat().st_size > 30_000, "screenshot looks blank"


def test_a_vendor_font_that_is_no_font_is_named(tmp_path: Path, page: Path) -> None:
    bad = tmp_path / "bad.tte"
    bad.write_bytes(b"not a font at all" * 10)
    res = _cli(
        "gaiji", "review", "--vendor", "vendor-a", "--vendor-font", str(bad),
        "--out", str(tmp_path / "r.html"), "--ledger", str(tmp_path / "l.duckdb"),
    )  # fmt: skip
    assert res.exit_code == 2 and "bad.tte" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()


def test_a_bitmap_vendor_font_is_shown_as_its_glyph_image(
    page: Path, tmp_path: Path, chromium: Path
) -> None:
    bdf = write_bdf(tmp_path / "vendor-gaiji.bdf", ["F040", UNMAPPED])
    out = tmp_path / "review-bdf.html"
    res = _cli(
        "gaiji", "review", "--vendor", "vendor-a", "--vendor-font", str(bdf),
        "--out", str(out), "--ledger", str(tmp_path / "l.duckdb"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = lxml.html.parse(str(out)).getroot()
    (img,) = doc.xpath(f'//section[@id="code-{UNMAPPED}"]//img[@class="bitmap"]')
    src = img.get("src")
    assert src.startswith("data:image/png;base64,")
    png = base64.b64decode(src.split(",", 1)[1])
    assert png.startswith(b"\x89PNG") and png_size_of(png) == (24, 24)
    shot = tmp_path / "bdf.png"
    run_chromium(
        chromium, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900",
        out.resolve().as_uri(),
    )  # fmt: skip
    assert png_size(shot) == (1280, 900)


def png_size_of(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize(
    "content", [b"not a bdf", b"STARTFONT 2.1\nSTARTCHAR x\nBBX 99999 99999 0 0\nBITMAP\n"]
)
def test_a_bitmap_font_that_is_no_font_is_named(page: Path, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.bdf"
    bad.write_bytes(content)
    res = _cli(
        "gaiji", "review", "--vendor", "vendor-a", "--vendor-font", str(bad),
        "--out", str(tmp_path / "r.html"), "--ledger", str(tmp_path / "l.duckdb"),
    )  # fmt: skip
    assert res.exit_code == 2 and "bad.bdf" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r.html").exists()
