"""Model budgets: reject samples a model could not take before anyone trains on them.

Total tokens = text tokens of every instruction and answer + the tokens the
model's processor turns the frames into + the chat template's own tokens.
Media tokens follow the processor's rules at the frame size (`processor:` in
a profile, one small rule per processor family), because most of today's
processors resize, tile or pair frames: a constant per frame is only right
for the older fixed-query models (`tokens_per_frame`). Text tokens come from
a local Hugging Face tokenizer when one is named and installed
(`--tokenizer`), else from an estimate of one token per 4 characters of Latin
text and one per CJK character, which is what BPE tokenizers of the Llama-3 /
Qwen family give within ~15% on English prose.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from typing import ClassVar

from t2vid.charset import is_cjk
from t2vid.errors import UsageError
from t2vid.presets import check_fields, configs_dir, read_named_config
from t2vid.rejects import Reject

DEFAULT_FRAME_SIZE = (448, 448)  # synth's default --size: the size a sample is costed at when its own is unknown


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's resize: sides rounded to `factor`, area scaled into [min_pixels, max_pixels], aspect kept."""
    resized_height = max(factor, round(height / factor) * factor)
    resized_width = max(factor, round(width / factor) * factor)
    if resized_height * resized_width > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        resized_height = max(factor, math.floor(height / beta / factor) * factor)
        resized_width = max(factor, math.floor(width / beta / factor) * factor)
    elif resized_height * resized_width < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        resized_height = math.ceil(height * beta / factor) * factor
        resized_width = math.ceil(width * beta / factor) * factor
    return resized_height, resized_width


@dataclass(frozen=True)
class Processor:
    """Rules of one processor family: how many tokens N frames of one size become."""

    family: ClassVar[str] = ""

    def media_tokens(self, frames: int, width: int, height: int, as_images: bool = False) -> int:
        raise NotImplementedError

    counts: ClassVar[tuple[str, ...]] = ()  # fields that may be 0 (token counts); every other number is a size or a count of at least 1

    def validate(self, where: str) -> None:
        """Checks beyond the field types (those are checked on loading): sizes and counts of at least 1."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and not isinstance(value, bool) and f.name not in self.counts and value < 1:
                raise UsageError(f"{where}: processor.{f.name} must be at least 1, not {value}")


@dataclass(frozen=True)
class QwenVLProcessor(Processor):
    """Qwen2-VL / Qwen2.5-VL: 28-px tokens (14-px patches merged 2x2) after smart-resize; video frames paired in time.

    A frame list is first padded to an even count (the last frame repeated),
    then every two frames share one grid of tokens. `total_pixels` is
    qwen-vl-utils' cap on a whole video (it lowers the per-frame maximum for
    long videos); `prescale_max_pixels` is a trainer's own downscale before the
    processor (LLaMA-Factory's `video_max_pixels` / `image_max_pixels`), done
    as that trainer does: both sides times sqrt(max / area), truncated.
    """

    family: ClassVar[str] = "qwen2-vl"
    patch_size: int = 14
    merge_size: int = 2
    temporal_patch_size: int = 2
    min_pixels: int = 128 * 28 * 28
    max_pixels: int = 768 * 28 * 28
    total_pixels: int | None = None
    prescale_max_pixels: int | None = None
    image_min_pixels: int = 56 * 56
    image_max_pixels: int = 28 * 28 * 1280
    image_prescale_max_pixels: int | None = None
    wrap_tokens: int = 2  # <|vision_start|> ... <|vision_end|> around each image or video
    counts: ClassVar[tuple[str, ...]] = ("wrap_tokens",)

    def _grid(self, width: int, height: int, min_pixels: int, max_pixels: int, prescale: int | None) -> int:
        if prescale is not None and width * height > prescale:
            scale = math.sqrt(prescale / (width * height))
            width, height = int(width * scale), int(height * scale)
        factor = self.patch_size * self.merge_size
        resized_height, resized_width = smart_resize(height, width, factor, min_pixels, max_pixels)
        return (resized_height // factor) * (resized_width // factor)

    def media_tokens(self, frames: int, width: int, height: int, as_images: bool = False) -> int:
        if frames == 0:
            return 0
        if as_images:
            per_image = self._grid(width, height, self.image_min_pixels, self.image_max_pixels, self.image_prescale_max_pixels)
            return frames * (per_image + self.wrap_tokens)
        padded = frames + frames % self.temporal_patch_size
        max_pixels = self.max_pixels
        if self.total_pixels is not None:
            max_pixels = max(min(max_pixels, self.total_pixels / padded * self.temporal_patch_size), int(self.min_pixels * 1.05))
        grid = self._grid(width, height, self.min_pixels, int(max_pixels), self.prescale_max_pixels)
        return padded // self.temporal_patch_size * grid + self.wrap_tokens


@dataclass(frozen=True)
class MiniCPMVProcessor(Processor):
    """MiniCPM-V 2.x: each image is `query_num` resampler queries, plus slices when it is larger than scale_resolution².

    An image of at most scale_resolution² pixels is one source image; a larger
    one adds a grid of slices (1 < slices <= max_slice_nums), each again
    `query_num` queries. Every image and slice is wrapped in a start and an end
    token; with `use_image_id` each image is preceded by <image_id>N</image_id>
    (one token per digit), and each frame placeholder keeps its newline.
    """

    family: ClassVar[str] = "minicpm-v"
    query_num: int = 64
    scale_resolution: int = 448
    max_slice_nums: int = 9
    use_image_id: bool = True
    newline_tokens: int = 1
    counts: ClassVar[tuple[str, ...]] = ("newline_tokens",)

    def slice_grid(self, width: int, height: int) -> tuple[int, int] | None:
        """(columns, rows) of slices, or None when the image is small enough to stay whole."""
        ratio = width * height / (self.scale_resolution * self.scale_resolution)
        multiple = min(math.ceil(ratio), self.max_slice_nums)
        if multiple <= 1:
            return None
        log_ratio = math.log(width / height)
        best, best_error = (1, 1), float("inf")
        for count in (multiple - 1, multiple, multiple + 1):
            if count == 1 or count > self.max_slice_nums:
                continue
            for columns in range(1, count + 1):
                if count % columns == 0:
                    error = abs(log_ratio - math.log(columns / (count // columns)))
                    if error < best_error:
                        best, best_error = (columns, count // columns), error
        return best

    def media_tokens(self, frames: int, width: int, height: int, as_images: bool = False) -> int:
        grid = self.slice_grid(width, height)
        wrapped = self.query_num + 2
        per_image = wrapped + self.newline_tokens
        if grid is not None:
            columns, rows = grid
            per_image += columns * rows * wrapped + (rows - 1) * self.newline_tokens
        ids = sum(2 + len(str(index)) for index in range(frames)) if self.use_image_id else 0
        return frames * per_image + ids


@dataclass(frozen=True)
class InternVLProcessor(Processor):
    """InternVL 2.5 / 3: 448-px tiles of `tokens_per_tile` tokens, dynamic tiling by aspect ratio, a thumbnail when tiled.

    InternVL's finetune script gives a multi-image row max(1,
    max_dynamic_patch // images) tiles per image, so frames of a long
    sample are one tile each. Each image is wrapped in <img> ... </img>.
    """

    family: ClassVar[str] = "internvl"
    image_size: int = 448
    tokens_per_tile: int = 256  # (448 / 14)^2 patches x 0.5^2 pixel shuffle
    min_dynamic_patch: int = 1
    max_dynamic_patch: int = 12
    use_thumbnail: bool = True
    wrap_tokens: int = 2
    counts: ClassVar[tuple[str, ...]] = ("wrap_tokens",)

    def tiles(self, width: int, height: int, max_num: int) -> int:
        aspect = width / height
        candidates = sorted(
            {(i, j) for i in range(1, max_num + 1) for j in range(1, max_num + 1) if self.min_dynamic_patch <= i * j <= max_num},
            key=lambda ratio: ratio[0] * ratio[1],
        )
        best, best_diff = (1, 1), float("inf")
        for ratio in candidates:
            diff = abs(aspect - ratio[0] / ratio[1])
            if diff < best_diff:
                best, best_diff = ratio, diff
            elif diff == best_diff and width * height > 0.5 * self.image_size**2 * ratio[0] * ratio[1]:
                best = ratio
        blocks = best[0] * best[1]
        return blocks + (1 if self.use_thumbnail and blocks != 1 else 0)

    def media_tokens(self, frames: int, width: int, height: int, as_images: bool = False) -> int:
        if frames == 0:
            return 0
        max_num = max(1, self.max_dynamic_patch // frames)
        return frames * (self.tiles(width, height, max_num) * self.tokens_per_tile + self.wrap_tokens)


@dataclass(frozen=True)
class LlavaVideoProcessor(Processor):
    """LLaVA-OneVision / LLaVA-Video: every frame resized to image_size², its patch grid pooled by `pool_stride`.

    `newline` is where the model adds its newline embedding: "grid" (one per
    pooled row of every frame, LLaVA-Video-7B-Qwen2), "one_token" (one after
    the whole video, LLaVA-OneVision and transformers' processor) or "none".
    """

    family: ClassVar[str] = "llava-video"
    image_size: int = 384
    patch_size: int = 14
    pool_stride: int = 2
    newline: str = "grid"

    def validate(self, where: str) -> None:
        super().validate(where)
        if self.newline not in ("grid", "one_token", "none"):
            raise UsageError(f"{where}: processor.newline must be grid, one_token or none, not {self.newline!r}")

    def media_tokens(self, frames: int, width: int, height: int, as_images: bool = False) -> int:
        side = math.ceil(self.image_size // self.patch_size / self.pool_stride)
        per_frame = side * side + (side if self.newline == "grid" else 0)
        return frames * per_frame + (1 if self.newline == "one_token" and frames else 0)


PROCESSORS: dict[str, type[Processor]] = {cls.family: cls for cls in (QwenVLProcessor, MiniCPMVProcessor, InternVLProcessor, LlavaVideoProcessor)}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str  # one line saying what the profile is for
    source: str = ""  # where the numbers come from: processor defaults, model card, training scripts
    max_frames: int | None = None
    tokens_per_frame: int = 0  # models with a fixed number of queries per frame; ignored when `processor` is set
    max_tokens: int | None = None  # the context the model is trained with
    processor: Processor | None = None
    template_tokens: int = 0  # chat template tokens of a sample (system prompt, role markers of the first turn)
    turn_tokens: int = 0  # chat template tokens of every further turn

    def media_tokens(self, frames: int, width: int, height: int, as_images: bool = False) -> int:
        if self.processor is None:
            return frames * self.tokens_per_frame
        return self.processor.media_tokens(frames, width, height, as_images)


def _processor(where: str, data) -> Processor:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: processor must be a mapping with a family, not {data!r}")
    values = dict(data)
    family = values.pop("family", None)
    if family not in PROCESSORS:
        raise UsageError(f"{where}: processor.family must be one of {', '.join(PROCESSORS)}, not {family!r}")
    cls = PROCESSORS[family]
    check_fields(cls, values, where, "processor.")
    processor = cls(**values)
    processor.validate(where)
    return processor


def list_profiles() -> dict[str, Profile]:
    return {p.stem: load_profile(p.stem) for p in sorted(configs_dir("profiles").glob("*.yaml"))}


def load_profile(name_or_path: str) -> Profile:
    """A profile checked as Profile's fields on reading (t2vid.presets); `processor` by its family's fields."""
    path, data = read_named_config(name_or_path, "profile", Profile)
    values = dict(data)
    if values.get("processor") is not None:
        values["processor"] = _processor(f"profile file {path}", values["processor"])
    return Profile(**values)


def estimate_tokens(text: str) -> int:
    cjk = sum(1 for c in text if is_cjk(c))
    return cjk + (len(text) - cjk + 3) // 4


@functools.lru_cache(maxsize=4)
def _tokenizer(name: str):
    try:
        from transformers import AutoTokenizer  # optional
    except ImportError:
        raise UsageError("--tokenizer needs the transformers package: pip install transformers") from None
    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError):
        raise UsageError(f"tokenizer {name!r} is not available locally") from None


class Budget:
    """Frame and token limits of one run (profile plus --max-frames/--min-frames).

    `frame_size` is the run's frame size; a sample's own size, where known,
    is passed to `total_tokens` / `over` instead.
    """

    def __init__(
        self,
        profile: str | None = None,
        max_frames: int | None = None,
        min_frames: int | None = None,
        tokenizer: str | None = None,
        frame_size: tuple[int, int] | None = None,
        max_tokens: int | None = None,
        as_images: bool = False,
    ):
        self.profile = load_profile(profile) if profile else None
        limits = [v for v in (max_frames, self.profile.max_frames if self.profile else None) if v is not None]
        self.max_frames = min(limits) if limits else None
        self.min_frames = min_frames
        self.max_tokens = max_tokens if max_tokens is not None else (self.profile.max_tokens if self.profile else None)
        self.tokenizer = tokenizer
        self.frame_size = frame_size or DEFAULT_FRAME_SIZE
        self.as_images = as_images
        if tokenizer:
            _tokenizer(tokenizer)

    def text_tokens(self, text: str) -> int:
        if self.tokenizer:
            return len(_tokenizer(self.tokenizer)(text, add_special_tokens=False)["input_ids"])
        return estimate_tokens(text)

    def media_tokens(self, frames: int, frame_size: tuple[int, int] | None = None) -> int:
        if self.profile is None:
            return 0
        width, height = frame_size or self.frame_size
        return self.profile.media_tokens(frames, width, height, self.as_images)

    def total_tokens(self, texts: list[str], frames: int, frame_size: tuple[int, int] | None = None) -> int:
        """Text, media and template tokens; `texts` are the instructions and answers, two per turn."""
        template = 0
        if self.profile:
            template = self.profile.template_tokens + self.profile.turn_tokens * max(0, (len(texts) + 1) // 2 - 1)
        return sum(self.text_tokens(t) for t in texts) + self.media_tokens(frames, frame_size) + template

    def over(self, texts: list[str], frames: int, frame_size: tuple[int, int] | None = None) -> Reject | None:
        """Why a sample exceeds the budget (frames or tokens), or None when it fits (a segment-stage reject: the budget limits the frames)."""
        if self.max_frames is not None and frames > self.max_frames:
            return Reject("segment", "over_frame_budget", f"over budget: {frames} frames > {self.max_frames}")
        if self.profile and self.max_tokens is not None:
            total = self.total_tokens(texts, frames, frame_size)
            if total > self.max_tokens:
                if self.profile.processor is None:
                    media = f"{frames} frames x {self.profile.tokens_per_frame}"
                else:
                    media = f"{frames} frames: {self.media_tokens(frames, frame_size)}"
                return Reject("segment", "over_token_budget", f"over budget: {total} tokens ({media} + text) > {self.max_tokens}")
        return None

    def under(self, frames: int) -> Reject | None:
        if self.min_frames is not None and frames < self.min_frames:
            return Reject("segment", "too_few_frames", f"too few frames: {frames} < {self.min_frames}")
        return None
