"""The spill: frames kept beyond a chunk wait on disk, exactly, and go with the run's stream."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import polars as pl

from etl.pipeline.spill import Spill, Spilled


def test_frames_come_back_exactly_in_order(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    first = pl.DataFrame({"_record_no": [1, 2], "宛名番号": ["0001", None], "n": [None, 3]})
    second = pl.DataFrame({"_record_no": [3], "宛名番号": [""], "n": [4]})
    paths = [spill.put(first), spill.put(first.clear()), spill.put(second)]
    back = Spill.read(paths, first.clear())
    assert back.equals(pl.concat([first, second]), null_equal=True)
    assert back.schema == first.schema
    assert back["宛名番号"].to_list() == ["0001", None, ""]  # null and empty text stay apart


def test_nothing_spilled_reads_the_empty_frame(tmp_path: Path) -> None:
    empty = pl.DataFrame(schema={"_record_no": pl.Int64, "a": pl.String})
    assert Spill.read([], empty).schema == empty.schema
    Spill(tmp_path).remove()  # no folder was made: nothing to remove
    assert list(tmp_path.iterdir()) == []


def test_the_folder_is_private_hidden_and_removed(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    path = spill.put(pl.DataFrame({"a": ["x"]}))
    folder = path.parent
    assert folder.parent == tmp_path and folder.name.startswith(".")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    spill.remove()
    assert list(tmp_path.iterdir()) == []


def test_threads_get_files_of_their_own(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    got: list[Path] = []
    lock = threading.Lock()

    def put(i: int) -> None:
        path = spill.put(pl.DataFrame({"i": [i]}))
        with lock:
            got.append(path)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 8
    assert sorted(Spill.read(got, pl.DataFrame())["i"].to_list()) == list(range(8))


def test_only_the_columns_asked_for_are_read(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    frames = [pl.DataFrame({"a": ["x", "yy"], "h": [1, 2]}), pl.DataFrame({"a": ["z"], "h": [3]})]
    paths = [spill.put(f) for f in frames]
    hashes = Spill.read(paths, pl.DataFrame(schema={"h": pl.Int64}), ["h"])
    assert hashes.columns == ["h"] and hashes["h"].to_list() == [1, 2, 3]


def test_rows_are_read_back_by_position_across_the_files(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    frames = [
        pl.DataFrame({"_record_no": range(s, s + n), "v": [f"r{s + i}" for i in range(n)]})
        for s, n in [(0, 3), (3, 0), (3, 4), (7, 2)]
    ]
    spilled = Spilled([spill.put(f) for f in frames])
    whole = pl.concat(frames)
    assert spilled.columns == ["_record_no", "v"]
    for wanted in [[0], [2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8], [8], [6, 7]]:
        positions = pl.Series(wanted, dtype=pl.UInt32)
        assert spilled.rows(positions).equals(whole[positions])
    nothing = spilled.rows(pl.Series(dtype=pl.UInt32))
    assert nothing.height == 0 and nothing.schema == whole.schema
    assert Spilled([]).rows(pl.Series(dtype=pl.UInt32)).height == 0


def test_rows_read_back_leave_the_digests_on_disk(tmp_path: Path) -> None:
    spill = Spill(tmp_path)
    frames = [
        pl.DataFrame({"v": [f"r{s + i}" for i in range(3)], "_hash[v]": [s, s + 1, s + 2]})
        for s in (0, 3)
    ]
    spilled = Spilled([spill.put(f) for f in frames], ["v"])
    assert spilled.columns == ["v"]
    positions = pl.Series([1, 4], dtype=pl.UInt32)
    assert spilled.rows(positions).equals(pl.concat(frames).select("v")[positions])
    assert spilled.rows(pl.Series(dtype=pl.UInt32)).schema == pl.Schema({"v": pl.String})


def test_what_is_read_back_keeps_no_file_open_or_mapped(tmp_path: Path) -> None:
    # the spill is removed while the digests and the rows read back are still in use
    spill = Spill(tmp_path)
    frames = [
        pl.DataFrame({"v": [f"r{s + i}" for i in range(3)], "h": [s, s + 1, s + 2]}) for s in (0, 3)
    ]
    paths = [spill.put(f) for f in frames]
    digests = Spill.read(paths, frames[0].clear(), ["h"])
    rows = Spilled(paths).rows(pl.Series([1, 4], dtype=pl.UInt32))
    folder = str(paths[0].parent)
    spill.remove()
    maps = Path("/proc/self/maps")
    assert not maps.exists() or folder not in maps.read_text()
    assert not any(folder in target for target in _open_files())
    assert digests["h"].to_list() == [0, 1, 2, 3, 4, 5]
    assert rows.rows() == [("r1", 1), ("r4", 4)]


def _open_files() -> list[str]:
    """What this process's file descriptors point at (none known off Linux)."""
    fds = Path("/proc/self/fd")
    targets = []
    for name in os.listdir(fds) if fds.exists() else []:
        try:
            targets.append(os.readlink(fds / name))
        except OSError:  # closed since it was listed (the listing's own)
            continue
    return targets
