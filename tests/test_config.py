"""Reading configuration files: bounded, strict, every problem located (etl.config)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from etl.config import MAX_CONFIG_BYTES, ConfigError, StrictModel, read_toml, read_yaml


class Field_(StrictModel):
    name: str
    offset: int = Field(ge=0)


class Profile(StrictModel):
    files: list[Field_]


class Codes(StrictModel):
    codes: list[str]


def _yaml(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "source.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("files:\n  - name: a\n    offset: '54'\n", "files[0].offset (line 3): Input should be"),
        ("files:\n  - name: a\n    offset: 300.5\n", "files[0].offset (line 3)"),
        ("files:\n  - name: a\n    offset: -1\n", "greater than or equal to 0"),
        ("files:\n  - name: a\n    offset: 1\n    ofset: 2\n", "files[0].ofset (line 4): unknown"),
        ("files: JUMIN.DAT\n", "files (line 1): Input should be a valid list"),
        ("files:\n  - offset: 1\n", "files[0].name (line 2): required key missing"),
    ],
)
def test_model_errors_name_key_path_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = _yaml(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        read_yaml(path).parse(Profile)
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)
    assert info.value.exit_code == 2


def test_yaml_integer_codes_are_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"codes\[0\] \(line 1\).*quote codes"):
        read_yaml(_yaml(tmp_path, "codes: [02, 03]\n")).parse(Codes)
    assert read_yaml(_yaml(tmp_path, "codes: ['02', '03']\n")).parse(Codes).codes == ["02", "03"]


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 20)]
    path = _yaml(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < 2048
    with pytest.raises(ConfigError, match=r"line 2: YAML aliases"):
        read_yaml(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", "line 2: duplicate key 'a'"),
        ("on: 1\n", "line 1: keys must be text, got bool True (quote it"),
        ("x: " + "[" * 300 + "]" * 300 + "\n", "nested deeper than 64 levels"),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels"),
        ("a: [\n", "line 2: invalid YAML"),
        ("a: b: c\n", "line 1: invalid YAML"),
    ],
)
def test_malformed_yaml(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_yaml(_yaml(tmp_path, text))
    assert expected in str(info.value)


def test_cp932_file_is_named_as_such(tmp_path: Path) -> None:
    path = _yaml(tmp_path, "vendor: 住民\n".encode("cp932"))
    with pytest.raises(ConfigError, match=r"line 1: .*not UTF-8 at byte offset 8 .*CP932"):
        read_yaml(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    assert read_yaml(_yaml(tmp_path, "\ufeffa: 1\n")).data == {"a": 1}


def test_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_yaml(fifo)  # must not block
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        read_yaml(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not a regular file"):
        read_yaml(Path("/dev/zero"))


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match="larger than"):
        read_yaml(path)


def test_toml_errors(tmp_path: Path) -> None:
    path = tmp_path / "chukan.toml"
    path.write_text('name = "x\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 1"):
        read_toml(path)
    path.write_bytes("name = '模擬市'\n".encode("cp932"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_toml(path)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_data_or_a_config_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_bytes(data)
        try:
            read_yaml(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))


# ---- libyaml's parser against PyYAML's (etl.config._FastLoader, _StrictLoader) ---------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.dates()
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
    | st.sampled_from(["02", "0x1F", "1_000", "on", "~", "令和", "- a", "a: b", "#", "'", ""])
)
_documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=6) | st.integers(0, 99), inner, max_size=4)
    ),
    max_leaves=20,
)


def _read_with(path: Path, loaders: tuple[type, ...]) -> tuple[object, ...]:
    import etl.config as config

    saved = config._LOADERS
    config._LOADERS = loaders  # type: ignore[assignment]
    try:
        doc = read_yaml(path)
        return ("read", doc.data, doc.lines)
    except ConfigError as exc:
        return ("refused", str(exc))
    finally:
        config._LOADERS = saved


def _pure_python() -> tuple[type, ...]:
    import etl.config as config

    return (config._StrictLoader,)


def _fast() -> tuple[type, ...]:
    import etl.config as config

    return config._LOADERS


@settings(max_examples=300, deadline=None)
@given(
    _documents,
    st.sampled_from([None, True, False]),
    st.booleans(),
    st.integers(20, 120),
)
def test_libyaml_reads_what_pyyaml_reads(
    data: object, flow: bool | None, unicode: bool, width: int
) -> None:
    """Documents as people and tools write them: the same data, key paths and lines."""
    import tempfile

    import yaml

    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode, width=width)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_text(text, encoding="utf-8")
        assert _read_with(path, _pure_python()) == _read_with(path, _fast())


def test_every_bundled_yaml_file_reads_the_same_both_ways() -> None:
    import etl.config as config

    assert config._LOADERS[0] is not config._StrictLoader  # libyaml is installed here
    root = Path(__file__).resolve().parent.parent
    files = [
        p
        for folder in ("layouts", "mappings", "validators", "fixtures")
        for p in sorted((root / folder).rglob("*.yaml"))
    ]
    assert len(files) > 50
    for path in files:
        assert _read_with(path, _pure_python()) == _read_with(path, _fast()), path


_PIECES = [*":-  \n\n[]{}'\"#&*?|>,a1\tあ.%@`", "- ", "a: ", "\n  ", "<<: ", "---", "1.5"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_what_libyaml_refuses_is_worded_by_pyyaml(text: str) -> None:
    """libyaml's verdict on odd text: a refusal reads as PyYAML's (the same message and line);
    where both read it, the same data. (libyaml also reads a few things PyYAML refuses: a tab
    inside a line, ``|#``; reads a lone ``!`` as '' rather than null; and puts an empty node at
    the end of a file one line lower.)"""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_text(text, encoding="utf-8")
        strict, fast = _read_with(path, _pure_python()), _read_with(path, _fast())
    if fast[0] == "refused":
        assert fast == strict
    elif strict[0] == "read":
        assert fast[1] == strict[1]
