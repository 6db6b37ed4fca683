"""Guess a file's encoding, line breaks and record length from a sample of its bytes.

chardet calls CP932 fixed-length records EBCDIC (the full-width space 0x8140 contains 0x40), so
candidates are scored by what they do to the sample: the strict-decode error rate and how
plausible the decoded characters are as Japanese text. chardet only breaks near-ties (it is right
on prose). Nothing here decides silently: a guess carries its reason and the scores of every
candidate, and says when it is ambiguous.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from etl.extract.decode import cp932_silent_positions, decode_recording
from etl.extract.profile import LineBreak

CANDIDATES = ("utf-8", "cp932", "euc_jp")
UTF8_BOM = b"\xef\xbb\xbf"
CR_LINE_ENDINGS = (
    "line ending is CR (classic Mac OS): records must end in LF or CR LF; convert the file "
    "first (e.g. tr '\\r' '\\n')"
)
MIN_SCORE = 0.3  # below this, no candidate reads as Japanese text
MIN_MARGIN = 0.1  # closer than this, the best two are a tie
_CHARDET_NAMES = {"utf-8": "utf-8", "ascii": "utf-8", "cp932": "cp932", "shift_jis": "cp932"}
_CHARDET_NAMES |= {"euc-jp": "euc_jp"}

# (first code point, weight) ranges over non-ASCII characters: how plausible in Japanese data
_WEIGHTS: tuple[tuple[int, float], ...] = (
    (0x0080, 0.1),  # Latin-1, Greek, Cyrillic …: possible in cp932, rare in records
    (0x2010, 0.6),  # general punctuation, letterlike symbols, ①②, arrows, box drawing
    (0x2E80, 0.3),
    (0x3000, 1.0),  # CJK punctuation (incl. U+3000), hiragana, katakana
    (0x3100, 0.3),
    (0x3200, 0.6),  # enclosed CJK (㈱), CJK compatibility (㍻)
    (0x3400, 0.3),
    (0x4E00, 0.7),  # CJK unified ideographs
    (0xA000, 0.1),
    (0xE000, 0.3),  # private use: 外字, plausible in small amounts
    (0xF900, 0.5),  # CJK compatibility ideographs
    (0xFB00, 0.1),
    (0xFF01, 0.9),  # full-width ASCII
    (0xFF61, 0.3),  # half-width 。「」、・: frequent when EUC-JP is read as cp932
    (0xFF66, 0.7),  # half-width katakana
    (0xFFA0, 0.1),
    (0xFFE0, 0.9),  # full-width ￠￡￢￣￤￥
    (0xFFF0, 0.0),  # specials, incl. U+FFFD replacement
    (0x10000, 0.1),
)
_BOUNDS = np.array([b for b, _ in _WEIGHTS], dtype=np.uint32)
_VALUES = np.array([w for _, w in _WEIGHTS], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class CandidateScore:
    encoding: str
    error_rate: float  # bad byte sequences per non-ASCII byte
    plausibility: float  # mean weight of the decoded non-ASCII characters (0..1)
    score: float  # plausibility, reduced by errors


@dataclass(frozen=True, slots=True)
class EncodingGuess:
    encoding: str  # the best candidate (even when ambiguous)
    confidence: float  # 0..1: margin over the runner-up, 1.0 for a BOM
    reason: str
    candidates: tuple[CandidateScore, ...]  # best first
    ambiguous: bool = False


def _plausibility(text: str) -> float:
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    wide = cps[cps >= 0x80]
    if wide.size == 0:
        return 1.0
    weights = _VALUES[np.searchsorted(_BOUNDS, wide, side="right") - 1]
    return float(weights.mean())


def score_candidate(sample: bytes, encoding: str, non_ascii: int) -> CandidateScore:
    text, spans = decode_recording(sample, encoding)
    errors = sum(end - start for start, end in spans)
    if encoding == "cp932" and (
        "\x80" in text or any(chr(c) in text for c in range(0xF8F0, 0xF8F4))
    ):
        errors += len(cp932_silent_positions(sample))  # only when such bytes show up
    rate = errors / max(non_ascii, 1)
    plausibility = _plausibility(text)
    return CandidateScore(encoding, rate, plausibility, plausibility * max(0.0, 1.0 - 10 * rate))


def _chardet_pick(sample: bytes, top: tuple[str, str]) -> str | None:
    import chardet  # only for a near-tie: a run of a declared encoding does not load it

    found = chardet.detect(sample).get("encoding") or ""
    pick = _CHARDET_NAMES.get(found.lower())
    return pick if pick in top else None


def guess_encoding(sample: bytes) -> EncodingGuess:
    """Score utf-8, cp932 and euc_jp on ``sample``; the best wins unless it is a near-tie."""
    if sample.startswith(UTF8_BOM):
        return EncodingGuess("utf-8-sig", 1.0, "UTF-8 byte order mark at the start", ())
    cut = sample.rfind(b"\n")  # do not judge a character cut off by the end of the sample
    body = sample[: cut + 1] if cut > 0 else sample
    non_ascii = int(np.count_nonzero(np.frombuffer(body, dtype=np.uint8) >= 0x80))
    scores = tuple(
        sorted(
            (score_candidate(body, enc, non_ascii) for enc in CANDIDATES),
            key=lambda c: -c.score,
        )
    )
    best, second = scores[0], scores[1]
    if non_ascii == 0:
        return EncodingGuess(
            best.encoding, 0.0, "sample is pure ASCII: every candidate reads it alike", scores, True
        )
    utf8 = next(c for c in scores if c.encoding == "utf-8")
    if utf8.error_rate == 0.0 and non_ascii >= 8:
        # Non-ASCII bytes that happen to form valid UTF-8 throughout are vanishingly unlikely.
        return EncodingGuess("utf-8", 1.0, f"{non_ascii} non-ASCII bytes, all valid UTF-8", scores)
    margin = best.score - second.score
    summary = ", ".join(f"{c.encoding} {c.score:.2f} ({c.error_rate:.1%} errors)" for c in scores)
    if best.score < MIN_SCORE:
        return EncodingGuess(
            best.encoding, 0.0, f"no candidate reads as Japanese text: {summary}", scores, True
        )
    if margin < MIN_MARGIN:
        pick = _chardet_pick(body, (best.encoding, second.encoding))
        if pick is None:
            return EncodingGuess(
                best.encoding,
                margin,
                f"near-tie, chardet did not settle it: {summary}",
                scores,
                True,
            )
        return EncodingGuess(pick, margin, f"near-tie broken by chardet: {summary}", scores)
    return EncodingGuess(best.encoding, min(1.0, margin), f"best score: {summary}", scores)


@dataclass(frozen=True, slots=True)
class LineBreakGuess:
    line_break: LineBreak  # NONE when the sample holds no line feed
    line_length: int | None  # bytes before the line break, when (nearly) all lines agree
    consistency: float  # share of complete lines having line_length (0 when no line feed)
    lines: int  # complete lines in the sample


def detect_line_break(sample: bytes) -> LineBreakGuess:
    """Whether lines end in LF or CR LF, and whether they all have the same length."""
    arr = np.frombuffer(sample, dtype=np.uint8)
    ends = np.flatnonzero(arr == 0x0A)
    if ends.size == 0:
        return LineBreakGuess(LineBreak.NONE, None, 0.0, 0)
    starts = np.concatenate(([0], ends[:-1] + 1))
    with_cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 0x0D)
    crlf = bool(with_cr.mean() > 0.5)
    sizes = ends - starts - (with_cr if crlf else 0)
    length, count = Counter(sizes.tolist()).most_common(1)[0]
    return LineBreakGuess(
        LineBreak.CRLF if crlf else LineBreak.LF, int(length), count / ends.size, int(ends.size)
    )


def lone_cr_line_endings(sample: bytes) -> int | None:
    """Offset of the first CR that ends a line on its own, when CR-only line endings (classic
    Mac OS) dominate the sample: more lone CRs than line feeds. A lone CR may be data inside a
    quoted field, so a few of them say nothing."""
    lone = sample.count(b"\r") - sample.count(b"\r\n")
    if not lone or lone <= sample.count(b"\n"):
        return None
    at = sample.find(b"\r")
    while sample[at + 1 : at + 2] == b"\n":
        at = sample.find(b"\r", at + 1)
    return at


def _period_scores(arr: NDArray[np.uint8], lengths: range) -> NDArray[np.float64]:
    freq = np.bincount(arr, minlength=256) / arr.size
    baseline = float((freq**2).sum())  # chance that two random bytes of the sample are equal
    out = np.zeros(len(lengths), dtype=np.float64)
    for i, length in enumerate(lengths):  # one vectorised comparison per candidate length
        match = float(np.count_nonzero(arr[:-length] == arr[length:])) / (arr.size - length)
        out[i] = (match - baseline) / (1.0 - baseline) if baseline < 1.0 else 0.0
    return out


def guess_record_length(
    sample: bytes, *, min_length: int = 8, max_length: int = 4096, top: int = 5
) -> list[tuple[int, float]]:
    """Likely record lengths of a file without line breaks, best first, with scores (0..1).

    Fixed-width records repeat their layout, so bytes one record apart agree far more often than
    chance (a record-type byte, padding, zero-filled numbers): the autocorrelation peaks at the
    record length and its multiples. Multiples fold onto the smallest comparable divisor.
    """
    arr = np.frombuffer(sample[:65536], dtype=np.uint8)
    hi = min(max_length, arr.size // 3)
    if hi < min_length:
        return []
    lengths = range(min_length, hi + 1)
    scores = _period_scores(arr, lengths)
    score_of = {length: float(s) for length, s in zip(lengths, scores, strict=True)}
    picked: dict[int, float] = {}
    for i in np.argsort(-scores, kind="stable")[: top * 10].tolist():
        length, score = lengths[i], float(scores[i])
        if score <= 0.05:
            break
        # fold a multiple onto its smallest divisor that scores comparably (records that repeat
        # exactly every k-th time peak at k × length too)
        divisors = (d for d in range(min_length, length // 2 + 1) if length % d == 0)
        base = min((d for d in divisors if score_of[d] >= 0.6 * score), default=length)
        picked.setdefault(base, round(score_of[base], 3))
        if len(picked) == top:
            break
    return list(picked.items())
