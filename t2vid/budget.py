"""Model budgets: reject samples a model could not take before anyone trains on them.

Total tokens = text tokens of every instruction and answer + tokens per frame x
frames. Text tokens come from a local Hugging Face tokenizer when one is named
and installed (`--tokenizer`), else from an estimate of one token per 4
characters of Latin text and one per CJK character, which is what BPE
tokenizers of the Llama-3 / Qwen family give within ~15% on English prose.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from t2vid.charset import is_cjk
from t2vid.errors import UsageError
from t2vid.presets import configs_dir, read_named_config
from t2vid.rejects import Reject


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    max_frames: int | None = None
    tokens_per_frame: int = 0
    max_tokens: int | None = None


def list_profiles() -> dict[str, Profile]:
    return {p.stem: load_profile(p.stem) for p in sorted(configs_dir("profiles").glob("*.yaml"))}


def load_profile(name_or_path: str) -> Profile:
    path, data = read_named_config(name_or_path, "profile")
    try:
        return Profile(**data)
    except TypeError as exc:
        raise UsageError(f"profile {path}: {exc}") from None


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
    except OSError:
        raise UsageError(f"tokenizer {name!r} is not available locally") from None


class Budget:
    """Frame and token limits of one run (profile plus --max-frames/--min-frames)."""

    def __init__(self, profile: str | None = None, max_frames: int | None = None, min_frames: int | None = None, tokenizer: str | None = None):
        self.profile = load_profile(profile) if profile else None
        limits = [v for v in (max_frames, self.profile.max_frames if self.profile else None) if v is not None]
        self.max_frames = min(limits) if limits else None
        self.min_frames = min_frames
        self.tokenizer = tokenizer
        if tokenizer:
            _tokenizer(tokenizer)

    def text_tokens(self, text: str) -> int:
        if self.tokenizer:
            return len(_tokenizer(self.tokenizer)(text, add_special_tokens=False)["input_ids"])
        return estimate_tokens(text)

    def total_tokens(self, texts: list[str], frames: int) -> int:
        per_frame = self.profile.tokens_per_frame if self.profile else 0
        return sum(self.text_tokens(t) for t in texts) + per_frame * frames

    def over(self, texts: list[str], frames: int) -> Reject | None:
        """Why a sample exceeds the budget (frames or tokens), or None when it fits (a segment-stage reject: the budget limits the frames)."""
        if self.max_frames is not None and frames > self.max_frames:
            return Reject("segment", "over_frame_budget", f"over budget: {frames} frames > {self.max_frames}")
        if self.profile and self.profile.max_tokens is not None:
            total = self.total_tokens(texts, frames)
            if total > self.profile.max_tokens:
                return Reject("segment", "over_token_budget", f"over budget: {total} tokens ({frames} frames x {self.profile.tokens_per_frame} + text) > {self.profile.max_tokens}")
        return None

    def under(self, frames: int) -> Reject | None:
        if self.min_frames is not None and frames < self.min_frames:
            return Reject("segment", "too_few_frames", f"too few frames: {frames} < {self.min_frames}")
        return None
