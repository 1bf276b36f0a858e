"""Every example marked runnable in README.md and docs/*.md runs, so the docs cannot rot.

The convention (a fenced block whose info string is exactly `bash runnable`
or `python runnable`): all runnable blocks of one page run in order, in one
fresh temporary directory as the working directory, with `t2vid` on PATH,
the repository on PYTHONPATH and $T2VID_FIXTURES set to tests/fixtures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(bash|python) runnable\n(.*?)^```$", re.S | re.M)
BLOCK_TIMEOUT = 300  # seconds; a block is meant to take a few on 2 cores, this only stops a hang


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def runnable_blocks(page: Path) -> list[tuple[str, str, int]]:
    """(language, code, line number) of each runnable block, in page order."""
    text = page.read_text(encoding="utf-8")
    return [(m[1], m[2], text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]


def environment(bin_dir: Path) -> dict[str, str]:
    """`t2vid` on PATH as this checkout's code, whether or not the package is installed."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "t2vid"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m t2vid.cli "$@"\n')
    shim.chmod(0o755)
    (bin_dir / "python3").symlink_to(sys.executable)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["T2VID_FIXTURES"] = str(ROOT / "tests" / "fixtures")
    env["HF_DATASETS_OFFLINE"] = "1"
    return env


PAGES = [page for page in pages() if runnable_blocks(page)]


def test_the_readme_and_every_docs_page_have_runnable_examples():
    assert ROOT / "README.md" in PAGES
    assert {p.name for p in PAGES} >= {"synth.md", "rendering.md", "presets.md", "exports.md", "inspect.md"}


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_runnable_examples(page, tmp_path):
    work, scripts = tmp_path / "work", tmp_path / "blocks"
    work.mkdir()
    scripts.mkdir()
    env = environment(tmp_path / "bin")
    for number, (language, code, line) in enumerate(runnable_blocks(page)):
        script = scripts / f"block{number}.{'sh' if language == 'bash' else 'py'}"
        script.write_text(code, encoding="utf-8")
        command = ["bash", "-euo", "pipefail", str(script)] if language == "bash" else [sys.executable, str(script)]
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
        assert done.returncode == 0, (
            f"{page.relative_to(ROOT)}:{line}: {language} block exited {done.returncode}\n"
            f"--- block ---\n{code}--- stdout ---\n{done.stdout[-3000:]}--- stderr ---\n{done.stderr[-3000:]}"
        )
