"""Shared helpers: small datasets built by the tests and a synth runner."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LICENSES = Path("/usr/share/common-licenses")


def pytest_configure(config):
    """The suite, and every process it starts, keeps its caches (XDG_CACHE_HOME: t2vid's font facts, and the
    Hugging Face and fontconfig caches too) in a folder of its own, from collection on: the fonts it makes in
    temporary folders never land in the user's ~/.cache, and no test depends on what the user has cached."""
    config.cache_home = tempfile.mkdtemp(prefix="t2vid-tests-cache-")
    config.user_cache_home = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = config.cache_home


def pytest_unconfigure(config):
    if config.user_cache_home is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = config.user_cache_home
    shutil.rmtree(config.cache_home, ignore_errors=True)


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records), encoding="utf-8")
    return path


def license_text(name: str = "Apache-2.0", words: int | None = None) -> str:
    text = (LICENSES / name).read_text()
    return " ".join(text.split()[:words]) if words else text


def run_synth(output: Path, *sources, **settings):
    """The Python API with fast test defaults; returns the summary."""
    from t2vid.config import build_config
    from t2vid.run import synth

    values = {"sources": tuple(str(s) for s in sources), "output": str(output), "workers": 1, "quiet": True}
    values.update(settings)
    return synth(build_config(values))


def synth_records(folder: Path, records: list, **settings) -> Path:
    """A small synth output (224x224 frames) of `records` in `folder`/out."""
    output = folder / "out"
    run_synth(output, write_jsonl(folder / "in.jsonl", records), **{"size": "224x224", **settings})
    return output


def shard_lines(output: Path) -> list[dict]:
    manifest = json.loads((output / "manifest.json").read_text())
    return [json.loads(line) for shard in manifest["shards"] for line in (output / shard).read_text(encoding="utf-8").split("\n") if line]  # not splitlines: a record may hold U+0085 or U+2028


def tree_bytes(root: Path, skip=("manifest.json",)) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name not in skip}


@pytest.fixture
def english_jsonl(tmp_path) -> Path:
    records = [
        {"context": license_text("Apache-2.0", 600), "question": "What is licensed?", "answer": "The Work."},
        {"context": license_text("Apache-2.0", 600), "question": "Who may sue?", "answer": "Nobody."},
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        {"context": license_text("MPL-2.0", 300), "question": "What is a Contributor?", "answer": "A person who contributes."},
    ]
    return write_jsonl(tmp_path / "english.jsonl", records)
