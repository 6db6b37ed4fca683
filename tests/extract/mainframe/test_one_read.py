"""A data set read by several record layouts is read and framed once: the layouts after the
first get its blocks less its data records, and decode exactly as if they had read the file.
What is kept belongs to one extractor instance (one per run): another run never sees it, and
the run's end releases it."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from etl.extract import load_profile
from etl.extract.mainframe import MainframeExtractor
from etl.extract.mainframe import extractor as mainframe
from etl.extract.mainframe.framing import read_blocks
from etl.extract.profile import SourceProfile
from etl.pipeline.sources import RunExtractors, extract_source
from etl.resources import data_dir
from fixtures.generate import generate_mainframe
from tests.extract.conftest import Extracted, run

CHUNK = 37  # many blocks, records of both layouts in most


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SourceProfile]:
    out = tmp_path_factory.mktemp("vendor-jef")
    generate_mainframe("vendor-jef", out, 90, seed=11, broken=True)
    return out, load_profile(data_dir("mappings") / "vendor-jef")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read_blocks frames, in order."""
    seen: list[str] = []

    def counted(path: Path, *args: Any) -> Iterator[Any]:
        seen.append(path.name)
        return read_blocks(path, *args)

    monkeypatch.setattr(mainframe, "read_blocks", counted)
    return seen


def frames(e: Extracted) -> list[pl.DataFrame]:
    return [e.records, e.rejects, e.filtered, e.findings]


def test_the_second_layout_of_a_data_set_reads_nothing(
    dump: tuple[Path, SourceProfile], reads: list[str]
) -> None:
    out, profile = dump
    one = MainframeExtractor()
    together = {f.name: run(out / f.path, f, profile, CHUNK, one) for f in profile.files}
    assert reads == ["JUKI.DAT", "NENKIN.DAT"]
    assert not one._kept  # taken, not left behind
    for f in profile.files:
        alone = run(out / f.path, f, profile, CHUNK, MainframeExtractor())
        assert alone.records_in == together[f.name].records_in
        for a, b in zip(frames(alone), frames(together[f.name]), strict=True):
            assert a.equals(b), f.name
    assert together["SETAI-REC"].records.height > 0
    assert together["SETAI-REC"].filtered.height > together["SETAI-REC"].records.height


def test_a_reader_that_stops_early_leaves_nothing_behind(
    dump: tuple[Path, SourceProfile], reads: list[str]
) -> None:
    out, profile = dump
    jumin, setai = profile.files[0], profile.files[1]
    one = MainframeExtractor()
    chunks = one.extract(out / jumin.path, jumin, profile, chunk_records=CHUNK)
    assert isinstance(chunks, Generator)
    next(chunks)
    chunks.close()
    assert not one._kept
    run(out / setai.path, setai, profile, CHUNK, one)
    assert reads == ["JUKI.DAT", "JUKI.DAT"]


def test_a_changed_file_is_read_again(
    dump: tuple[Path, SourceProfile], reads: list[str], tmp_path: Path
) -> None:
    _, profile = dump
    src = dump[0] / "JUKI.DAT"
    copy = tmp_path / "JUKI.DAT"
    copy.write_bytes(src.read_bytes())
    jumin, setai = profile.files[0], profile.files[1]
    one = MainframeExtractor()
    run(copy, jumin, profile, CHUNK, one)
    copy.write_bytes(src.read_bytes()[:-4000])  # another size: what was kept is not this file
    cut = run(copy, setai, profile, CHUNK, one)
    assert reads == ["JUKI.DAT", "JUKI.DAT"]
    assert cut.records_in == run(copy, setai, profile, CHUNK).records_in


def test_another_run_does_not_see_what_one_kept(
    dump: tuple[Path, SourceProfile], reads: list[str]
) -> None:
    out, profile = dump
    jumin, setai = profile.files[0], profile.files[1]
    first, second = MainframeExtractor(), MainframeExtractor()
    run(out / jumin.path, jumin, profile, CHUNK, first)
    assert first._kept  # for SETAI-REC
    run(out / jumin.path, jumin, profile, CHUNK, second)  # does not wipe the first run's
    assert reads == ["JUKI.DAT", "JUKI.DAT"]
    run(out / setai.path, setai, profile, CHUNK, first)
    assert reads == ["JUKI.DAT", "JUKI.DAT"]
    assert not first._kept
    second.release()  # its SETAI-REC never read: the run's end drops the blocks
    assert not second._kept


def test_a_run_keeps_one_instance_and_releases_it(dump: tuple[Path, SourceProfile]) -> None:
    out, profile = dump
    jumin = profile.files[0]  # SETAI-REC, which reads the same data set, is not read after it
    with RunExtractors() as extractors:
        one = extractors.get("mainframe")
        assert isinstance(one, MainframeExtractor)
        extract_source(out, profile, jumin, None, chunk_records=CHUNK, extractors=extractors)
        assert extractors.get("mainframe") is one
        assert one._kept  # the run's instance read the file and keeps its blocks for SETAI-REC
    assert not one._kept  # the run is over: released
