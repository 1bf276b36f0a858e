"""Adapt: a raw record -> a Sample, or a Reject (stage `adapt`) that says why not.

A preset (a YAML file under configs/presets/, loaded by t2vid.parsers) names
a parser and its field names; the adapter applies it with the user's
overrides and turns what the parser returns, or the Rejected it raises, into
a Sample or a Reject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from t2vid.charset import count_words, has_words
from t2vid.config import SynthConfig
from t2vid.errors import UsageError
from t2vid.parsers import load_preset
from t2vid.parsers.base import CONTEXT_ONLY, PARSERS
from t2vid.rejects import Reject, Rejected
from t2vid.sources import RawRecord, SourceRef


@dataclass(frozen=True)
class Sample:
    id: str
    context: str
    instruction: str
    answer: str
    source: SourceRef
    turns: tuple[dict, ...] = ()  # further {"instruction", "answer"} turns over the same context
    meta: dict = field(default_factory=dict)  # e.g. {"template": "paper"}
    whitespace: str | None = None  # the preset's whitespace mode for this record's dataset (code keeps its indentation)


class Adapter:
    """Applies one preset, with the user's overrides, to raw records."""

    def __init__(self, config: SynthConfig, dataset_names: tuple[str, ...] = ()):
        preset = load_preset(config.preset)
        fields_ = dict(preset.fields)
        for key, override in (("context", config.context_field), ("question", config.question_field), ("answer", config.answer_field)):
            if override:
                fields_[key] = override
        options = dict(preset.options)
        if config.nq_short_answer:
            options["nq_short_answer"] = True
        self.preset = replace(
            preset,
            fields=fields_,
            instruction_template=config.instruction_template if config.instruction_template is not None else preset.instruction_template,
            min_context_words=config.min_context_words if config.min_context_words is not None else preset.min_context_words,
            options=options,
        )
        self._subset = config.subset
        if self.preset.parser in CONTEXT_ONLY and not config.tasks_only:
            raise UsageError(f"preset {self.preset.name} has no question or answer: use it with --tasks KIND[,KIND...] --tasks-only")
        self._parse = PARSERS[self.preset.parser]
        self._ids = IdMaker(dataset_names)

    def __call__(self, raw: RawRecord) -> Sample | Reject:
        """A readable record (the read stage has dropped the rest) -> Sample or Reject."""
        record = raw.record
        if not isinstance(record, dict):
            return Reject("adapt", "not_an_object", f"record is a JSON {type(record).__name__}, not an object")
        try:
            parsed = self._parse(record, self.preset)
        except Rejected as exc:
            return exc.at("adapt")
        if not has_words(parsed.context, self.preset.min_context_words):
            return Reject("adapt", "no_long_context", f"no long context ({count_words(parsed.context)} words, fewer than {self.preset.min_context_words})")
        instruction = parsed.question.strip()
        if self.preset.instruction_template:
            instruction = self.preset.instruction_template.replace("{question}", instruction)
        turns = tuple({"instruction": t["instruction"], "answer": t["answer"]} for t in parsed.turns)
        dataset = str(parsed.meta.get("dataset") or self._subset or "").removesuffix("_e")
        whitespace = self.preset.whitespace_by_dataset.get(dataset)
        return Sample(self._ids(raw.source), parsed.context, instruction, parsed.answer.strip(), raw.source, turns, dict(parsed.meta), whitespace)


class IdMaker:
    """Filesystem-safe ids, unique within a run: `<dataset slug>-<index>`.

    Slugs are fixed from the run's ordered list of datasets, so every worker
    gives a record the same id whatever shard it sees first.
    """

    def __init__(self, dataset_names: tuple[str, ...] = ()):
        self._slugs: dict[str, str] = {}
        for name in dataset_names:
            self._slug(name)

    def _slug(self, dataset: str) -> str:
        slug = self._slugs.get(dataset)
        if slug is None:
            stem = Path(dataset).stem if Path(dataset).suffix else dataset
            base = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")[:40] or "data"
            slug, n, taken = base, 2, set(self._slugs.values())
            while slug in taken:
                slug, n = f"{base}_{n}", n + 1
            self._slugs[dataset] = slug
        return slug

    def __call__(self, source: SourceRef) -> str:
        return f"{self._slug(source.dataset)}-{source.index:08d}"
