"""`t2vid diversity`: how varied the instructions of a dataset are.

Synthetic QA data tends to collapse onto a few question templates, and a model
tuned on it learns the templates rather than the task. These metrics put a
number on that, for our outputs and for any JSON/JSONL instruction dataset,
so two datasets can be compared side by side.

Metrics, on lower-cased word tokens (each CJK character is a token):
- distinct-n: distinct n-grams / all n-grams, over all instructions.
- entropy-n: Shannon entropy in bits of the n-gram frequencies.
- TF-IDF distance: mean cosine distance over all pairs of instructions,
  computed exactly for every instruction (smoothed idf, L2-normalised
  vectors; the mean of all pairwise dot products is (|sum|^2 - n) / (n(n-1))).
- template groups: on a deterministic sample of at most 2000 instructions,
  connect two instructions when the cosine of their word 1+2-gram count
  vectors is >= 0.8 and count the connected components (singletons count as
  groups of one). Raw counts, not TF-IDF, on purpose: idf gives the words every
  instance of a template shares almost no weight, which hides templates.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, Iterator

from t2vid.charset import CJK_CLASS
from t2vid.errors import UsageError
from t2vid.exports.chat import MEDIA_TOKEN, first_question, message_text

PAIRWISE_SAMPLE = 2000
TEMPLATE_COSINE = 0.8
TERM_BLOCK = 4096
SAMPLE_SEED = 0
TOKEN = re.compile(f"[{CJK_CLASS}]|[^\\W_{CJK_CLASS}]+")


@dataclass(frozen=True)
class DiversityReport:
    name: str
    instructions: int
    skipped: int
    distinct_1: float
    distinct_2: float
    distinct_3: float
    entropy_1: float
    entropy_2: float
    tfidf_distance: float | None
    pairwise_sample: int
    template_groups: int
    in_template_groups: float  # share of the sample in a group of 2 or more
    largest_group: int
    embedding_distance: float | None = None


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def clean_instruction(text: str) -> str:
    """Drop media placeholders (the exports' MEDIA_TOKEN: <image>, <video>, <image_00>) and collapse whitespace."""
    return " ".join(MEDIA_TOKEN.sub(" ", text).split())


def _by_path(record, path: str):
    value = record
    for part in path.split("."):
        if isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return message_text(value)


def find_instruction(record, field_path: str | None = None) -> str | None:
    """The first user turn of a chat row (read like the exports read rows: t2vid.exports.chat) or an instruction-like field."""
    if not isinstance(record, dict):
        return None
    if field_path:
        return _by_path(record, field_path)
    question = first_question(record)
    if question is not None:
        return question
    for key in ("instruction", "question", "prompt", "query"):
        if isinstance(record.get(key), str):
            return record[key]
    return None


def _records(path: Path) -> Iterator[Any]:
    """Records of a JSONL file, a JSON array, or a .json object holding one list of records.

    Lines and array elements stream through the same reader synth uses; a
    broken line is a record without an instruction (None). A .json file that
    is one object, the wrapper some datasets use, is unwrapped; over several
    lines it is read as a whole.
    """
    from t2vid.sources import iter_records, resolve_sources

    raws = iter_records(resolve_sources([str(path)]))
    if path.suffix.lower() == ".json" and _starts_with_object(path):
        head = list(islice(raws, 2))
        if head and (head[0].error or len(head) == 1):
            yield from _unwrapped(_whole_json(path) if head[0].error else head[0].record)
            return
        raws = chain(head, raws)
    for raw in raws:
        yield raw.record if raw.error is None else None


def _starts_with_object(path: Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(4096).lstrip().startswith("{")


def _whole_json(path: Path) -> Any:
    """A .json file that is neither an array nor JSON Lines: one value, possibly over many lines."""
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None


def _unwrapped(data: Any) -> list:
    """The records of a JSON value: a list's items, the one list of records an object wraps, else the value itself."""
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        data = lists[0] if len(lists) == 1 else [data]
    return data if isinstance(data, list) else [data]


def load_instructions(source: str | Path, field_path: str | None = None) -> tuple[list[str], int]:
    """Cleaned instructions of a synth output or JSON/JSONL file, and how many records had none."""
    path = Path(source)
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise UsageError(f"{path} is a directory but not a t2vid output (no manifest.json)")
        from t2vid.output import read_output

        records = read_output(path)
        field_path = field_path or "instruction"
    elif path.is_file():
        records = _records(path)
    else:
        raise UsageError(f"no such file or directory: {source}")
    found, skipped = [], 0
    for record in records:
        text = find_instruction(record, field_path)
        text = clean_instruction(text) if text else ""
        if text:
            found.append(text)
        else:
            skipped += 1
    return found, skipped


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def entropy_bits(counts: Counter) -> float:
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0


def tfidf_distance(token_lists: list[list[str]]) -> float | None:
    """Mean pairwise cosine distance of TF-IDF vectors, exact, without building the pair matrix."""
    docs = [Counter(tokens) for tokens in token_lists if tokens]
    n = len(docs)
    if n < 2:
        return None
    df = Counter(term for doc in docs for term in doc)
    idf = {term: math.log((1 + n) / (1 + count)) + 1 for term, count in df.items()}
    total: Counter = Counter()
    for doc in docs:
        weights = {term: tf * idf[term] for term, tf in doc.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        for term, weight in weights.items():
            total[term] += weight / norm
    mean_cosine = (sum(v * v for v in total.values()) - n) / (n * (n - 1))
    return 1.0 - mean_cosine


def pairwise_sample(count: int) -> list[int]:
    """At most PAIRWISE_SAMPLE positions, the same ones on every run."""
    if count <= PAIRWISE_SAMPLE:
        return list(range(count))
    return sorted(random.Random(SAMPLE_SEED).sample(range(count), PAIRWISE_SAMPLE))


def template_groups(token_lists: list[list[str]], threshold: float = TEMPLATE_COSINE) -> list[int]:
    """Sizes of the connected components of the 'cosine of 1+2-gram counts >= threshold' graph, largest first."""
    import numpy as np

    docs = [Counter(tokens + [" ".join(pair) for pair in ngrams(tokens, 2)]) for tokens in token_lists]
    df = Counter(term for doc in docs for term in doc)
    shared = sorted(term for term, count in df.items() if count > 1)  # a term in one document adds nothing to any pair
    norms = [math.sqrt(sum(c * c for c in doc.values())) or 1.0 for doc in docs]
    cosine = np.zeros((len(docs), len(docs)), dtype=np.float32)
    for start in range(0, len(shared), TERM_BLOCK):  # column blocks keep memory bounded for long instructions
        column = {term: n for n, term in enumerate(shared[start : start + TERM_BLOCK])}
        block = np.zeros((len(docs), len(column)), dtype=np.float32)
        for row, doc in enumerate(docs):
            for term, count in doc.items():
                if term in column:
                    block[row, column[term]] = count / norms[row]
        cosine += block @ block.T
    similar = np.argwhere(np.triu(cosine >= threshold - 1e-6, k=1))
    parent = list(range(len(docs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in similar:
        parent[root(int(a))] = root(int(b))
    return sorted(Counter(root(i) for i in range(len(docs))).values(), reverse=True)


def embedding_distance(instructions: list[str], model_name: str) -> float | None:
    """Mean pairwise cosine distance of sentence embeddings from a locally installed model."""
    try:
        from sentence_transformers import SentenceTransformer  # optional
    except ImportError:
        raise UsageError("--embeddings needs sentence-transformers: pip install sentence-transformers") from None
    try:
        model = SentenceTransformer(model_name, local_files_only=True)
    except (OSError, ValueError, TypeError):
        raise UsageError(f"embedding model {model_name!r} is not available locally") from None
    if len(instructions) < 2:
        return None
    vectors = model.encode(instructions, normalize_embeddings=True, convert_to_numpy=True)
    n, total = len(vectors), vectors.sum(axis=0)
    return float(1.0 - (total @ total - n) / (n * (n - 1)))


def measure(name: str, instructions: list[str], skipped: int = 0, embeddings: str | None = None) -> DiversityReport:
    """All metrics of one dataset (see the module docstring for their definitions)."""
    token_lists = [tokenize(text) for text in instructions]
    counts = {n: Counter(gram for tokens in token_lists for gram in ngrams(tokens, n)) for n in (1, 2, 3)}
    distinct = {n: len(c) / total if (total := sum(c.values())) else 0.0 for n, c in counts.items()}
    chosen = pairwise_sample(len(instructions))
    groups = template_groups([token_lists[i] for i in chosen]) if chosen else []
    grouped = sum(size for size in groups if size > 1)
    return DiversityReport(
        name=name,
        instructions=len(instructions),
        skipped=skipped,
        distinct_1=round(distinct[1], 4),
        distinct_2=round(distinct[2], 4),
        distinct_3=round(distinct[3], 4),
        entropy_1=round(entropy_bits(counts[1]), 3),
        entropy_2=round(entropy_bits(counts[2]), 3),
        tfidf_distance=_rounded(tfidf_distance(token_lists)),
        pairwise_sample=len(chosen),
        template_groups=len(groups),
        in_template_groups=round(grouped / len(chosen), 4) if chosen else 0.0,
        largest_group=groups[0] if groups else 0,
        embedding_distance=_rounded(embedding_distance([instructions[i] for i in chosen], embeddings)) if embeddings else None,
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


ROWS = (
    ("instructions", "instructions"),
    ("skipped (no instruction)", "skipped"),
    ("distinct-1", "distinct_1"),
    ("distinct-2", "distinct_2"),
    ("distinct-3", "distinct_3"),
    ("entropy-1 (bits)", "entropy_1"),
    ("entropy-2 (bits)", "entropy_2"),
    ("TF-IDF distance", "tfidf_distance"),
    ("pairwise sample", "pairwise_sample"),
    ("template groups", "template_groups"),
    ("share in groups >= 2", "in_template_groups"),
    ("largest group", "largest_group"),
    ("embedding distance", "embedding_distance"),
)


def format_table(reports: list[DiversityReport]) -> str:
    """Metrics down, datasets across."""
    rows = [(label, key) for label, key in ROWS if key != "embedding_distance" or any(r.embedding_distance is not None for r in reports)]
    cells = [[_cell(getattr(r, key)) for r in reports] for _, key in rows]
    widths = [max(len(r.name), *(len(row[i]) for row in cells)) for i, r in enumerate(reports)]
    label_width = max(len(label) for label, _ in rows)
    lines = [" " * label_width + "".join(f"  {r.name:>{w}}" for r, w in zip(reports, widths))]
    lines += [f"{label:<{label_width}}" + "".join(f"  {c:>{w}}" for c, w in zip(row, widths)) for (label, _), row in zip(rows, cells)]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
