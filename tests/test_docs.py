"""Docs and `--help` say the same: generated option tables are current, every option has help, links resolve."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import click

from t2vid.cli import all_commands, cli

ROOT = Path(__file__).resolve().parent.parent
OTHER_PAGES = {"architecture.md", "reliability.md", "performance.md", "tasks.md", "trainers.md", "cluster.md", "documents.md"}  # written beside this set of pages


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_option_tables_match_help():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, f"docs and --help differ; run `python3 scripts/gen_docs.py`:\n{done.stderr}"


def test_check_catches_a_stale_table_and_a_missing_one(tmp_path, monkeypatch, capsys):
    gen_docs = _gen_docs()
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# t\n")
    stale = gen_docs.option_table(cli.get_command(None, "render")).replace("`--margin`", "`--old-margin`")
    (tmp_path / "docs" / "render.md").write_text(f"<!-- options: render -->\n{stale}<!-- /options -->\n")
    monkeypatch.setattr(gen_docs, "ROOT", tmp_path)
    assert gen_docs.main(["--check"]) == 1
    problems = capsys.readouterr().err
    assert "docs/render.md: options of `t2vid render` differ from --help" in problems
    assert "no option table for `t2vid synth`" in problems
    assert gen_docs.main([]) == 0  # rewrites the table
    text = (tmp_path / "docs" / "render.md").read_text()
    assert "`--margin`" in text and "--old-margin" not in text
    gen_docs.main(["--check"])
    assert "t2vid render" not in capsys.readouterr().err


def test_every_option_of_every_command_has_help():
    bare = [f"t2vid {name} {param.opts[-1]}" for name, command in all_commands().items() for param in command.params if isinstance(param, click.Option) and not (param.help or "").strip()]
    assert not bare


def test_command_list_shows_whole_descriptions(capsys):
    from t2vid.cli import main

    assert main(["--help"]) == 0
    listing = " ".join(capsys.readouterr().out.split())
    for name, command in all_commands().items():
        first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
        assert first_paragraph in listing, name


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```$", "", page.read_text(encoding="utf-8"), flags=re.S | re.M), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_readme_is_short_and_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)]*))?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            path = (page.parent / target).resolve() if target else page
            assert path.exists() or path.name in OTHER_PAGES, f"{page.relative_to(ROOT)}: broken link {target}"
            if anchor and path.exists():
                assert anchor in _anchors(path), f"{page.relative_to(ROOT)}: no heading #{anchor} in {target or page.name}"
