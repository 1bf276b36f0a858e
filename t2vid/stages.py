"""One sample's way after adapt: segment (within the budget), tasks (with --tasks), render, write.

Each step takes what the step before returned and gives back its own typed
result or a Reject; pipeline.ShardWorker runs them in order, guards, counts
and times them. Per-process state (font engines, the segmentation cache) lives
here so that every record of a worker shares it.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace

from t2vid import tasks
from t2vid.adapt import Sample
from t2vid.budget import Budget
from t2vid.config import SynthConfig
from t2vid.errors import writing_out
from t2vid.fonts import resolve_face
from t2vid.layout import Layouter
from t2vid.rejects import Reject
from t2vid.render import Renderer
from t2vid.segment import Segmentation, segment
from t2vid.style import RenderStyle, StyleJitter, default_family
from t2vid.writer import FrameStaging, OutputDir

FIT_BUDGET_SCALES = (0.9, 0.8, 0.7)  # font-size steps tried by --fit-budget, with the `fit` segmenter
SEGMENTATIONS_KEPT = 32  # contexts whose frames a worker keeps for the next sample over them
SEGMENTATION_FRAMES_KEPT = 4096  # and at most this many frames in all (~6 KB each for prose) before the next context is segmented


@dataclass(frozen=True)
class Segmented:
    """A sample cut into frames that fit its budget, with the style and segmenter that did it."""

    sample: Sample
    style: RenderStyle
    segmenter: str
    segmentation: Segmentation
    needles: tasks.NeedlePlan | None = None  # facts inserted into sample.context before segmenting (--tasks needle)
    tasks: tuple[dict, ...] | None = None  # answer keys of the generated task turns (--tasks)


@dataclass(frozen=True)
class Rendered:
    """The frames drawn under their content key and staged, not yet committed; `staged` is None when OUT already holds them."""

    segmented: Segmented
    key: str
    staged: FrameStaging | None


@dataclass(frozen=True)
class Written:
    """The sample's output record, and what writing it did to OUT."""

    record: dict
    frames: int
    words: int
    missing_glyphs: tuple[str, ...]
    frame_files_written: int
    frames_reused: int


def frame_key(style: RenderStyle, segmenter: str, words_per_frame: int, overlap: int, frame_texts: list[str]) -> str:
    """Content address of a frame sequence: the same style and texts give the same files, shared by every sample over them.

    The sha256 of `json.dumps([style key, segmenter, words_per_frame, overlap,
    frame_texts])`, fed one text at a time: the whole JSON of a 10M-character
    context would be two more copies of it (~20 MB) while its frames are drawn.
    """
    digest = hashlib.sha256()
    settings = json.dumps([style.key(), segmenter, words_per_frame, overlap], ensure_ascii=False)
    digest.update(settings[:-1].encode() + b", [")
    for n, text in enumerate(frame_texts):
        digest.update(((", " if n else "") + json.dumps(text, ensure_ascii=False)).encode("utf-8", "surrogatepass"))
    digest.update(b"]]")
    return digest.hexdigest()[:24]


class SampleStages:
    """The steps after adapt, for one run's settings; engines and caches survive across records and shards."""

    def __init__(self, config: SynthConfig, out: OutputDir):
        self.config = config
        self.out = out
        self.budget = Budget(config.profile, config.max_frames, config.min_frames, config.tokenizer, (config.style.width, config.style.height))
        self.jitter = StyleJitter(config.jitter_fonts, config.jitter_font_sizes) if config.style_jitter else None
        self._engines: dict[RenderStyle, tuple[Layouter, Renderer]] = {}
        self._segmented: OrderedDict[tuple, Segmentation] = OrderedDict()
        self._segmented_frames = 0
        self._default_font = resolve_face(default_family(config.style.whitespace))
        self.task_settings = tasks.settings_of(config)

    def engines(self, style: RenderStyle) -> tuple[Layouter, Renderer]:
        pair = self._engines.get(style)
        if pair is None:
            if len(self._engines) > 64:
                self._engines.clear()
            pair = self._engines[style] = (Layouter(style, self.config.font_fallback), Renderer(style))
        return pair

    def _segmentation(self, context: str, style: RenderStyle, segmenter: str) -> Segmentation:
        """Same context and style -> one segmentation (LongAlpaca asks many questions per paper).

        Bounded by frames as well as contexts: a huge context's frames (~95 MB
        for 10M characters) are let go before the next context is segmented,
        not kept beside it.
        """
        key = (hashlib.sha256(context.encode("utf-8", "surrogatepass")).digest(), style, segmenter)
        cached = self._segmented.get(key)
        if cached is None:
            while self._segmented and (len(self._segmented) >= SEGMENTATIONS_KEPT or self._segmented_frames > SEGMENTATION_FRAMES_KEPT):
                self._segmented_frames -= len(self._segmented.popitem(last=False)[1].frames)  # oldest first
            cached = segment(context, self.engines(style)[0], segmenter, self.config.words_per_frame, self.config.overlap)
            self._segmented[key] = cached
            self._segmented_frames += len(cached.frames)
        return cached

    def _with_whitespace(self, style: RenderStyle, whitespace: str) -> RenderStyle:
        """The preset's mode for this record; the mode's default font unless the run names its own."""
        if style.font == self._default_font.path and style.font_index == self._default_font.index:
            face = resolve_face(default_family(whitespace))
            style = replace(style, font=face.path, font_index=face.index)
        return replace(style, whitespace=whitespace)

    def segment(self, sample: Sample) -> Segmented | Reject:
        """Frames for the sample's context in its (possibly jittered) style, then the budget check."""
        config = self.config
        style = self.jitter.pick(config.style, config.seed, sample.id) if self.jitter else config.style
        if sample.whitespace and config.whitespace is None and sample.whitespace != style.whitespace:
            style = self._with_whitespace(style, sample.whitespace)
        needles = tasks.needle_plan(self.task_settings, sample.id, sample.context) if self.task_settings else None
        if needles is not None:  # before segmenting, so that the frames show the facts and texts stay what is drawn
            sample = replace(sample, context=tasks.insert_needles(sample.context, needles))
        seg = self._segmentation(sample.context, style, config.segmenter)
        if not seg.frames:
            missing = "".join(seg.missing_glyphs)
            detail = "no drawable text in the context" + (f" (no installed font has {missing[:20]!r})" if missing else " (only invisible characters)")
            return Reject("segment", "no_drawable_text", detail)
        return self.fit_budget(Segmented(sample, style, config.segmenter, seg, needles))

    def fit_budget(self, segmented: Segmented) -> Segmented | Reject:
        """Within the frame and token budget as is, or (--fit-budget) at the first denser font size that is; else the reject."""
        sample, style = segmented.sample, segmented.style
        texts = [sample.instruction, sample.answer] + [t[k] for t in sample.turns for k in ("instruction", "answer")]
        reject = self.budget.over(texts, len(segmented.segmentation.frames))
        if reject and self.config.fit_budget:
            for scale in FIT_BUDGET_SCALES:
                denser = replace(style, font_size=max(8, round(style.font_size * scale)))
                candidate = self._segmentation(sample.context, denser, "fit")
                if self.budget.over(texts, len(candidate.frames)) is None:
                    segmented, reject = replace(segmented, style=denser, segmenter="fit", segmentation=candidate), None
                    break
        return reject or self.budget.under(len(segmented.segmentation.frames)) or segmented

    def tasks(self, segmented: Segmented) -> Segmented | Reject:
        """Generated task turns after the sample's own (or instead of them, --tasks-only), within the budget."""
        config, sample, seg = self.config, segmented.sample, segmented.segmentation
        overlap_lines = [frame.overlap_lines for frame in seg.frames] if config.overlap else None
        made = tasks.generate_tasks(seg.texts, overlap_lines, self.task_settings, sample.id, segmented.needles)
        conversation = [(sample.instruction, sample.answer)] + [(t["instruction"], t["answer"]) for t in sample.turns]
        while made:  # task turns never push a sample over its token budget
            texts = [text for pair in tasks.with_tasks(conversation, made, config.tasks_only)[0] for text in pair]
            if self.budget.over(texts, len(seg.frames)) is None:
                break
            made.pop()
        if config.tasks_only and not made:
            return Reject("tasks", "no_tasks", f"no {'/'.join(config.tasks)} task fits these {len(seg.frames)} frames (too little text)")
        turns, keys = tasks.with_tasks(conversation, made, config.tasks_only)
        sample = replace(sample, instruction=turns[0][0], answer=turns[0][1], turns=tuple({"instruction": q, "answer": a} for q, a in turns[1:]))
        return replace(segmented, sample=sample, tasks=tuple(keys))

    def render(self, segmented: Segmented) -> Rendered:
        """Draw and encode the frames into OUT's staging one at a time, unless OUT already holds frames with the same key.

        One encoded frame at a time is in memory (a 10M-character context has
        ~14,600 frames, ~275 MB encoded); an error while drawing any frame
        discards the staged ones.
        """
        config = self.config
        seg = segmented.segmentation
        key = frame_key(segmented.style, segmented.segmenter, config.words_per_frame, config.overlap, seg.texts)
        if self.out.has_frames(key):
            return Rendered(segmented, key, None)
        renderer = self.engines(segmented.style)[1]
        with writing_out():
            staged = self.out.stage_frames(key, len(seg.frames), segmented.style.image_format)
        with staged:
            for frame in seg.frames:
                encoded = renderer.render(frame)
                with writing_out():
                    staged.add(encoded)
        return Rendered(segmented, key, staged)

    def write(self, rendered: Rendered) -> Written:
        """Build the sample's record, then commit the staged frames (if new); a failed write to OUT stops the run.

        Committing is the last step, and a failure before it discards the
        staged frames: no record fails and leaves frames behind that no record
        names (a run into an empty OUT does not look for stale frames
        afterwards).
        """
        staged, frames = rendered.staged, len(rendered.segmented.segmentation.frames)
        written = 0
        with staged if staged is not None else nullcontext():
            record = self._record(rendered)
            if staged is not None:
                with writing_out():
                    written = frames if staged.commit() else 0
        seg = rendered.segmented.segmentation
        words = sum(frame.new_words for frame in seg.frames)
        return Written(record, frames, words, seg.missing_glyphs, written, frames - written)

    def _record(self, rendered: Rendered) -> dict:
        """The sample's line in its shard."""
        config, out = self.config, self.out
        segmented = rendered.segmented
        sample, style, seg = segmented.sample, segmented.style, segmented.segmentation
        frame_texts = seg.texts
        folder = out.frame_dir(rendered.key).relative_to(out.root).as_posix()
        names = [out.frame_name(i, len(frame_texts), style.image_format) for i in range(len(frame_texts))]
        record = {
            "id": sample.id,
            "images": [f"{folder}/{name}" for name in names],
            "instruction": sample.instruction,
            "answer": sample.answer,
            "texts": frame_texts,
            "num_frames": len(frame_texts),
            "source": asdict(sample.source),
            "missing_glyphs": list(seg.missing_glyphs),
            "width": style.width,
            "height": style.height,
        }
        if config.overlap:
            record["overlap_lines"] = [frame.overlap_text_lines for frame in seg.frames]
        if sample.turns:
            record["turns"] = list(sample.turns)
        if segmented.tasks is not None:
            record["tasks"] = list(segmented.tasks)
        if sample.meta:
            record["meta"] = sample.meta
        if style != config.style:
            record["style"] = {"font": style.font, "font_size": style.font_size, "fg": style.fg, "bg": style.bg, "whitespace": style.whitespace}
        return record
