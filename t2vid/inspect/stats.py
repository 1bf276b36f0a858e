"""`t2vid stats`: the numbers to check before training on an output.

Frame counts decide memory and tokens per sample, words per frame decide
legibility, languages and missing glyphs show whether the fonts fit the data,
and a model profile tells how many samples a trainer would have to drop.
The histogram is drawn with Pillow so that no plotting library is needed.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from t2vid.charset import script_counts
from t2vid.errors import UsageError

LANGUAGE_SAMPLE_CHARS = 3000
# Function words that make up roughly a third of running English text and little of other Latin-script languages.
ENGLISH_WORDS = frozenset({"the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be", "by", "this", "are", "or", "not", "from", "at", "which", "an", "have"})
ENGLISH_SHARE = 0.15
CJK_SHARE = 0.3


@dataclass(frozen=True)
class Distribution:
    min: float
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values) -> Distribution | None:
        """Nearest-rank percentiles: every reported value is one that occurs."""
        import numpy as np

        data = np.asarray(values, dtype=np.float64)
        if data.size == 0:
            return None
        p50, p90, p99 = np.percentile(data, [50, 90, 99], method="inverted_cdf")
        return cls(*(_plain(v) for v in (data.min(), p50, p90, p99, data.max(), round(float(data.mean()), 2))))


def _plain(value) -> float | int:
    """Whole numbers as ints, so JSON says 7 and not 7.0."""
    value = float(value)
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class BudgetStats:
    profile: str
    max_frames: int | None
    max_tokens: int | None
    tokens_per_frame: int
    tokens_per_sample: Distribution | None
    over_frames: int
    over_tokens: int
    over_budget: int


@dataclass
class OutputStats:
    output: str
    samples: int = 0
    frames: int = 0
    frame_files: int = 0
    frames_per_sample: Distribution | None = None
    words_per_frame: Distribution | None = None
    chars_per_frame: Distribution | None = None
    languages: dict[str, int] = field(default_factory=dict)
    samples_with_missing_glyphs: int = 0
    missing_glyphs: dict[str, int] = field(default_factory=dict)  # char -> samples that lack it
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    budget: BudgetStats | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def detect_language(text: str) -> str:
    """A cheap guess from scripts: zh, ja, ko, en, latin (other Latin-script), other, or none.

    At least 30% CJK letters -> ko when Hangul dominates, ja when at least a
    tenth of them are kana, else zh. Otherwise mostly Latin letters -> en when
    15% or more of the words are common English function words, else latin.
    """
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    counts = script_counts(sample)
    letters = sum(counts.values())
    if not letters:
        return "none"
    cjk = counts["hangul"] + counts["kana"] + counts["han"]
    if cjk / letters >= CJK_SHARE:
        if counts["hangul"] > counts["kana"] + counts["han"]:
            return "ko"
        return "ja" if counts["kana"] >= 0.1 * cjk else "zh"
    if counts["latin"] / letters >= 0.5:
        words = re.findall(r"[a-z]+", sample.lower())
        english = sum(map(ENGLISH_WORDS.__contains__, words))
        return "en" if words and english / len(words) >= ENGLISH_SHARE else "latin"
    return "other"


def count_units(text: str) -> int:
    """Words of a frame as layout counts them (`split_units`), without building the units.

    Per-frame `split_units` was most of `t2vid stats`. Words made only of Latin,
    Greek and Cyrillic are one unit each; the other words gain one unit at every
    position where `split_units` breaks a word (before or after a CJK character,
    before opening punctuation; never before closing punctuation or after
    opening). Both are counted by regular expressions; text with combining
    marks, which glue to the character before them, is left to `split_units`.
    """
    from t2vid.layout import split_units

    words = text.split()
    other_char, other_word, breaks = _unit_patterns()
    if not "".join(words).isprintable():  # control or format characters, which layout drops
        return len(split_units(text))
    if other_char.search(text) is None:
        return len(words)
    other = " ".join(other_word.findall(text))
    if any(_is_mark(char) for char in set(other)):
        return len(split_units(text))
    return len(words) + len(breaks.findall(other))


@functools.lru_cache(maxsize=None)
def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


@functools.lru_cache(maxsize=1)
def _unit_patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """A character outside layout's one-unit words, a word holding one, and the positions inside such words where layout breaks."""
    from t2vid.layout import UNIT_BREAK

    simple = r"\x21-\x7e\u00a1-\u02ff\u0370-\u03ff\u0400-\u04ff"  # layout's one-unit words
    return re.compile(rf"[^\s{simple}]"), re.compile(rf"(?<!\S)[{simple}]*+[^\s{simple}]\S*"), UNIT_BREAK


def collect_stats(out: str | Path, profile: str | None = None, tokenizer: str | None = None) -> tuple[OutputStats, list[int], list[int]]:
    """Stats of OUT, plus frames and tokens per sample (for the plot).

    `tokenizer` counts the text tokens of the `profile` budget; without a
    profile there is no budget to count toward, so it is refused rather than
    silently ignored.
    """
    from tqdm import tqdm

    from t2vid.budget import Budget
    from t2vid.output import read_manifest, read_output

    if tokenizer and not profile:
        raise UsageError("--tokenizer counts text tokens toward a model budget: give --profile too")
    root = Path(out)
    manifest = read_manifest(root)
    budget = Budget(profile, tokenizer=tokenizer) if profile else None
    stats = OutputStats(str(out))
    frames_per_sample, tokens_per_sample, words, chars = [], [], [], []
    languages, missing = Counter(), Counter()
    files: set[str] = set()
    over_frames = over_tokens = over_budget = 0
    for record in tqdm(read_output(root), total=manifest.get("samples"), unit=" samples", disable=None, desc="stats"):
        texts, frames = record["texts"], record["num_frames"]
        frames_per_sample.append(frames)
        files.update(record["images"])
        for text in texts:
            words.append(count_units(text))
            chars.append(len("".join(text.split())))
        languages[detect_language("\n".join(texts))] += 1
        glyphs = set(record["missing_glyphs"])
        missing.update(glyphs)
        stats.samples_with_missing_glyphs += bool(glyphs)
        if budget is not None:
            qa = [record["instruction"], record["answer"]] + [t[k] for t in record.get("turns", []) for k in ("instruction", "answer")]
            tokens = budget.total_tokens(qa, frames)
            tokens_per_sample.append(tokens)
            over_frames += budget.max_frames is not None and frames > budget.max_frames
            over_tokens += budget.profile.max_tokens is not None and tokens > budget.profile.max_tokens
            over_budget += budget.over(qa, frames) is not None
    stats.samples, stats.frames, stats.frame_files = len(frames_per_sample), sum(frames_per_sample), len(files)
    stats.frames_per_sample = Distribution.of(frames_per_sample)
    stats.words_per_frame = Distribution.of(words)
    stats.chars_per_frame = Distribution.of(chars)
    stats.languages = dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0])))
    stats.missing_glyphs = dict(sorted(missing.items(), key=lambda kv: (-kv[1], kv[0])))
    stats.rejected_by_reason = _rejects_by_reason(root)
    stats.rejected = sum(stats.rejected_by_reason.values())
    if budget is not None:
        p = budget.profile
        stats.budget = BudgetStats(p.name, budget.max_frames, p.max_tokens, p.tokens_per_frame, Distribution.of(tokens_per_sample), over_frames, over_tokens, over_budget)
    return stats, frames_per_sample, tokens_per_sample


def _rejects_by_reason(root: Path) -> dict[str, int]:
    """Reject counts read from the rejects files, by code like synth's summary, most frequent first."""
    from t2vid.output import read_rejects

    reasons = Counter(reject["code"] for reject in read_rejects(root))
    return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def format_stats(stats: OutputStats) -> str:
    """The human-readable report: one screen, aligned columns."""
    share = (lambda n: f"{100 * n / stats.samples:.1f}%") if stats.samples else (lambda n: "-")
    lines = [f"t2vid stats {stats.output}", f"  samples           {stats.samples}", f"  frames            {stats.frames} ({stats.frame_files} distinct files)", ""]
    lines.append(f"  {'':<18}" + "".join(f"{h:>8}" for h in ("min", "p50", "p90", "p99", "max", "mean")))
    rows = [("frames/sample", stats.frames_per_sample), ("words/frame", stats.words_per_frame), ("chars/frame", stats.chars_per_frame)]
    if stats.budget:
        rows.append(("tokens/sample", stats.budget.tokens_per_sample))
    for name, dist in rows:
        values = [dist.min, dist.p50, dist.p90, dist.p99, dist.max, dist.mean] if dist else ["-"] * 6
        lines.append(f"  {name:<18}" + "".join(f"{v if isinstance(v, str) else _number(v):>8}" for v in values))
    lines.append("")
    lines.append("  languages         " + (", ".join(f"{lang} {n} ({share(n)})" for lang, n in stats.languages.items()) or "-"))
    if stats.missing_glyphs:
        shown = " ".join(f"{c} U+{ord(c):04X}" for c in list(stats.missing_glyphs)[:10]) + (" ..." if len(stats.missing_glyphs) > 10 else "")
        lines.append(f"  missing glyphs    {stats.samples_with_missing_glyphs} samples ({share(stats.samples_with_missing_glyphs)}), {len(stats.missing_glyphs)} distinct: {shown}")
    else:
        lines.append("  missing glyphs    none")
    lines.append(f"  rejected          {stats.rejected}")
    lines.extend(f"    {count:>6}  {reason}" for reason, count in stats.rejected_by_reason.items())
    if stats.budget:
        b = stats.budget
        lines.append(f"  budget            {b.profile}: max {b.max_frames} frames, {b.tokens_per_frame} tokens/frame, max {b.max_tokens} tokens")
        lines.append(f"  over budget       {b.over_budget} samples ({share(b.over_budget)}): {b.over_frames} over frames, {b.over_tokens} over tokens")
    return "\n".join(lines)


@dataclass(frozen=True)
class Panel:
    """One histogram of the plot."""

    title: str
    values: list[int]
    xlabel: str
    limit: int | None = None


def nice_step(raw: float) -> int:
    """The smallest 1, 2 or 5 x 10^k at least `raw` (and at least 1): readable tick steps."""
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


PLOT_WIDTH, PANEL_HEIGHT = 720, 300
BAR_COLOUR, LIMIT_COLOUR, GRID_COLOUR, TEXT_COLOUR = "#4c72b0", "#c44e52", "#e3e3e3", "#222222"


def draw_histograms(panels: list[Panel]):
    """Stacked histograms with axes, ticks and labels, as an RGB Pillow image."""
    from PIL import Image, ImageDraw

    from t2vid.fonts import load_font, resolve_face

    image = Image.new("RGB", (PLOT_WIDTH, PANEL_HEIGHT * len(panels)), "white")
    draw = ImageDraw.Draw(image)
    face = resolve_face(None)
    fonts = (load_font(face, 12), load_font(face, 15))
    for number, panel in enumerate(panels):
        _draw_panel(draw, panel, number * PANEL_HEIGHT, fonts)
    return image


def _draw_panel(draw, panel: Panel, y0: int, fonts) -> None:
    import numpy as np

    small, large = fonts
    left, right, top, bottom = 70, PLOT_WIDTH - 24, y0 + 58, y0 + PANEL_HEIGHT - 50
    if not panel.values:
        draw.text((left, y0 + 12), f"{panel.title}: no samples", fill=TEXT_COLOUR, font=large)
        return
    values = np.asarray(panel.values, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    bin_width = nice_step((high - low + 1) / 30) if high - low + 1 > 40 else 1
    low -= low % bin_width
    bins = (high - low) // bin_width + 1
    counts = np.bincount((values - low) // bin_width, minlength=bins)
    y_step = nice_step(max(1, int(counts.max())) / 5)
    y_top = max(y_step, math.ceil(int(counts.max()) / y_step) * y_step)
    span = bins * bin_width
    offset = 0.5 if bin_width == 1 else 0.0  # one bin per value: ticks sit under bar centres

    def x_of(value: float) -> float:
        return left + (value - low + offset) / span * (right - left)

    def y_of(count: float) -> float:
        return bottom - count / y_top * (bottom - top)

    limit = "" if panel.limit is None else f", limit {panel.limit}"
    draw.text((left, y0 + 12), f"{panel.title} (n={len(panel.values)}{limit})", fill=TEXT_COLOUR, font=large)
    for tick in range(0, y_top + 1, y_step):
        y = y_of(tick)
        draw.line((left, y, right, y), fill=GRID_COLOUR)
        draw.text((left - 8, y), str(tick), fill=TEXT_COLOUR, font=small, anchor="rm")
    slot = (right - left) / bins
    for index, count in enumerate(counts):
        if count:
            x = left + index * slot
            draw.rectangle((x + (1 if slot > 3 else 0), y_of(int(count)), x + max(1, slot - 1), bottom), fill=BAR_COLOUR)
    x_step = max(bin_width, nice_step(span / 8))
    for tick in range(low + (-low) % x_step, low + span, x_step):
        x = x_of(tick)
        draw.line((x, bottom, x, bottom + 4), fill=TEXT_COLOUR)
        draw.text((x, bottom + 6), str(tick), fill=TEXT_COLOUR, font=small, anchor="mt")
    if panel.limit is not None and low <= panel.limit < low + span:
        x = x_of(panel.limit)
        for y in range(top, bottom, 8):
            draw.line((x, y, x, min(y + 4, bottom)), fill=LIMIT_COLOUR, width=2)
    draw.line((left, top, left, bottom), fill=TEXT_COLOUR)
    draw.line((left, bottom, right, bottom), fill=TEXT_COLOUR)
    draw.text((left, top - 12), "samples", fill=TEXT_COLOUR, font=small, anchor="mb")
    draw.text(((left + right) / 2, bottom + 26), panel.xlabel, fill=TEXT_COLOUR, font=small, anchor="mt")
