"""`t2vid verify OUT --ocr`: read a sample of frames back with Tesseract.

A frame is only worth training on if its text can be read. OCR is a reader
independent of the renderer, so the character error rate (CER) it gets against
the record's `texts[i]` catches clipped lines, tofu boxes, bad fonts and
settings too small to read. Tesseract runs as a subprocess (one thread each,
several at once): its own OpenMP threading is ~7x slower on small images.

CER = Levenshtein distance / reference length, on both texts after NFKC,
folding typographic quotes and dashes to ASCII, and removing all whitespace
(line breaks and the spaces Tesseract puts between CJK characters are layout,
not content). Totals are pooled: sum of distances / sum of lengths.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

from t2vid.charset import script_counts
from t2vid.errors import UsageError
from t2vid.output import read_errors_as_usage_error

INSTALL_HINT = "Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-chi-sim"
_FOLD = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-"})
WORST_SHOWN = 5
SNIPPET = 40


@dataclass(frozen=True)
class FrameRef:
    """One distinct frame file and the text it should show."""

    path: str  # relative to OUT
    text: str
    missing: str  # characters no font had: not drawn, so not expected


@dataclass(frozen=True)
class FrameCheck:
    path: str
    lang: str
    expected: str  # normalised
    read: str  # normalised
    distance: int
    error: str = ""  # why Tesseract could not read the file, if it could not

    @property
    def cer(self) -> float:
        return self.distance / max(1, len(self.expected))


@dataclass(frozen=True)
class LangScore:
    frames: int
    chars: int
    errors: int

    @property
    def cer(self) -> float:
        return self.errors / max(1, self.chars)


@dataclass(frozen=True)
class OcrReport:
    checks: tuple[FrameCheck, ...]
    frames_available: int
    engine: str  # the tesseract version line

    def scores(self) -> dict[str, LangScore]:
        """Per Tesseract language, then "overall"."""
        groups: dict[str, list[FrameCheck]] = defaultdict(list)
        for check in self.checks:
            groups[check.lang].append(check)
        groups = dict(sorted(groups.items()))
        groups["overall"] = list(self.checks)
        return {lang: LangScore(len(c), sum(len(x.expected) for x in c), sum(x.distance for x in c)) for lang, c in groups.items()}

    def worst(self, count: int = WORST_SHOWN) -> list[FrameCheck]:
        return sorted((c for c in self.checks if c.distance), key=lambda c: (-c.cer, c.path))[:count]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, bit-parallel over `a` (Myers/Hyyrö): O(len(b)) big-int steps, not a full table."""
    if not a or not b:
        return len(a) + len(b)
    match: dict[str, int] = {}
    for i, char in enumerate(a):
        match[char] = match.get(char, 0) | (1 << i)
    mask, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    plus, minus, score = mask, 0, len(a)  # vertical +1/-1 deltas of the current column
    for char in b:
        eq = match.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        h_plus = minus | ~(xh | plus)
        h_minus = plus & xh
        if h_plus & top:
            score += 1
        elif h_minus & top:
            score -= 1
        h_plus = (h_plus << 1) | 1
        h_minus <<= 1
        plus = (h_minus | ~(xv | h_plus)) & mask
        minus = h_plus & xv
    return score


def normalise(text: str, missing: str = "") -> str:
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return "".join(c for c in text if not c.isspace() and c not in missing)


def detect_lang(text: str) -> str:
    """Tesseract language(s) for a frame: by script, with +eng when Latin letters are mixed in."""
    counts = script_counts(text)
    base = "jpn" if counts["kana"] else "kor" if counts["hangul"] else "chi_sim" if counts["han"] else None
    if base is None:
        return "eng"
    return f"{base}+eng" if counts["latin"] else base


def sample_frames(out: str | Path, count: int, seed: int) -> tuple[list[FrameRef], int]:
    """A seeded uniform sample of distinct frame files (one pass, bounded memory); and how many there are."""
    from t2vid.output import reservoir_sample

    return reservoir_sample(_distinct_frames(out), count, seed)


def _distinct_frames(out: str | Path) -> Iterator[FrameRef]:
    """Every frame file once: samples over the same context share a frame folder."""
    from t2vid.output import read_output

    seen_dirs: set[str] = set()
    for record in read_output(out):
        images = record.get("images") or []
        folder = images[0].rsplit("/", 1)[0] if images else ""
        if folder in seen_dirs:
            continue
        seen_dirs.add(folder)
        missing = "".join(record.get("missing_glyphs") or [])
        for path, text in zip(images, record.get("texts") or []):
            yield FrameRef(path, text, missing)


def find_tesseract(langs: set[str]) -> tuple[str, str]:
    """The tesseract binary and its version line; a one-line install hint when it or a language is missing."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise UsageError(f"tesseract is not installed ({INSTALL_HINT})")
    try:
        listing = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=60).stdout
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout.splitlines()
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"cannot run {binary}: {exc}") from None
    installed = {line.strip() for line in listing.splitlines()[1:]}
    needed = sorted({part for lang in langs for part in lang.split("+")} - installed)
    if needed:
        packages = " ".join(f"tesseract-ocr-{name.replace('_', '-').lower()}" for name in needed)
        raise UsageError(f"tesseract has no {', '.join(needed)} language data (Debian/Ubuntu: apt-get install {packages})")
    return binary, version[0] if version else "tesseract"


def read_frame(binary: str, root: Path, ref: FrameRef, lang: str) -> FrameCheck:
    """OCR one frame as a uniform block of text (--psm 6), single-threaded."""
    expected = normalise(ref.text, ref.missing)
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        done = subprocess.run([binary, str(root / ref.path), "stdout", "-l", lang, "--psm", "6"], capture_output=True, env=env, timeout=300)
        error = "" if done.returncode == 0 else (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["tesseract failed"])[-1]
        read = normalise(done.stdout.decode("utf-8", "replace")) if not error else ""
    except subprocess.TimeoutExpired:
        read, error = "", "tesseract timed out"
    return FrameCheck(ref.path, lang, expected, read, edit_distance(expected, read), error)


def verify_ocr(out: str | Path, sample: int = 100, seed: int = 0, lang: str = "auto", workers: int | None = None, progress: bool = False) -> OcrReport:
    """OCR a seeded sample of OUT's frames and score each against its record text."""
    with read_errors_as_usage_error(out):
        refs, available = sample_frames(out, sample, seed)
    langs = [detect_lang(ref.text) if lang == "auto" else lang for ref in refs]
    binary, engine = find_tesseract(set(langs) or {"eng"})
    root = Path(out)
    with ThreadPoolExecutor(max(1, workers or os.cpu_count() or 1)) as pool:
        jobs = pool.map(lambda pair: read_frame(binary, root, *pair), zip(refs, langs))
        if progress:
            from tqdm import tqdm

            jobs = tqdm(jobs, total=len(refs), unit=" frames", file=sys.stderr, dynamic_ncols=True)
        checks = tuple(jobs)
    return OcrReport(checks, available, engine)


def _snippet(expected: str, read: str) -> tuple[str, str]:
    """Both texts from a little before their first difference."""
    first = next((i for i, (a, b) in enumerate(zip(expected, read)) if a != b), min(len(expected), len(read)))
    start = max(0, first - 8)
    return expected[start : start + SNIPPET], read[start : start + SNIPPET]


def format_report(report: OcrReport, max_cer: float) -> str:
    scores = report.scores()
    lines = [
        f"OCR check: {len(report.checks)} of {report.frames_available} frames read back with {report.engine} (CER on text without whitespace)",
        f"  {'language':<14}{'frames':>7}{'chars':>9}{'errors':>8}{'CER':>9}",
    ]
    for lang, score in scores.items():
        lines.append(f"  {lang:<14}{score.frames:>7}{score.chars:>9}{score.errors:>8}{score.cer:>8.2%}")
    worst = report.worst()
    if worst:
        lines.append("  worst frames:")
    for check in worst:
        expected, read = _snippet(check.expected, check.read)
        lines.append(f"    {check.path}  CER {check.cer:.2%} ({check.lang}){'  ' + check.error if check.error else ''}")
        lines.append(f"      expected: {expected}")
        lines.append(f"      read:     {read}")
    overall = scores["overall"].cer
    verdict = "ok" if overall <= max_cer else "FAIL"
    lines.append(f"{verdict}: overall CER {overall:.2%} {'<=' if overall <= max_cer else '>'} --max-cer {max_cer:.2%}")
    return "\n".join(lines)


def report_json(report: OcrReport, max_cer: float) -> dict:
    scores = report.scores()
    return {
        "frames": len(report.checks),
        "frames_available": report.frames_available,
        "engine": report.engine,
        "cer": scores["overall"].cer,
        "max_cer": max_cer,
        "passed": scores["overall"].cer <= max_cer,
        "languages": {lang: dict(asdict(s), cer=s.cer) for lang, s in scores.items() if lang != "overall"},
        "worst": [dict(asdict(c), cer=c.cer) for c in report.worst()],
    }
