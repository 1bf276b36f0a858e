"""Write each command's option table into the docs from its click definition.

The tables sit between marker comments in README.md and docs/*.md:

    <!-- options: synth -->
    ...generated...
    <!-- /options -->

`python3 scripts/gen_docs.py` rewrites them; `--check` changes nothing and
exits 1 naming every table that differs from `--help` and every command that
has no table, so docs and options cannot drift apart.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from t2vid.cli import all_commands  # noqa: E402

BLOCK = re.compile(r"(<!-- options: (?P<command>[\w-]+) -->\n)(?P<body>.*?)(<!-- /options -->)", re.S)
DEFAULT_IN_HELP = re.compile(r"\s*\[default: (?P<value>[^\]]+)\]\s*$")


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def option_table(command: click.Command) -> str:
    """A Markdown table: option, value, default, meaning, in the order of `--help`."""
    rows = ["| option | value | default | meaning |", "|---|---|---|---|"]
    for param in command.params:
        if not isinstance(param, click.Option) or param.hidden:
            continue
        help_text, default = _help_and_default(param)
        names = ", ".join(f"`{name}`" for name in param.opts + param.secondary_opts)
        rows.append(f"| {names} | {_value(param)} | {default} | {_cell(help_text)} |")
    return "\n".join(rows) + "\n"


def _help_and_default(param: click.Option) -> tuple[str, str]:
    help_text = " ".join((param.help or "").split())
    match = DEFAULT_IN_HELP.search(help_text)
    if match:
        return help_text[: match.start()], _cell(match["value"])
    if param.is_flag:
        return help_text, "off"
    if param.required:
        return help_text, "required"
    if param.show_default and param.default not in (None, (), ""):
        value = ",".join(map(str, param.default)) if isinstance(param.default, (tuple, list)) else param.default
        return help_text, f"`{value}`"
    return help_text, ""


def _value(param: click.Option) -> str:
    if param.is_flag:
        return ""
    if isinstance(param.type, click.Choice):
        value = "\\|".join(str(choice) for choice in param.type.choices)
    elif isinstance(param.type, (click.types.IntParamType, click.types.IntRange)):
        value = "N"
    elif isinstance(param.type, (click.types.FloatParamType, click.types.FloatRange)):
        value = "X"
    else:
        value = param.metavar or max(param.opts, key=len).lstrip("-").upper().replace("-", "_")
    return f"`{value}`" + (" (repeatable)" if param.multiple else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table is out of date or missing")
    args = parser.parse_args(argv)
    problems, documented = [], set()
    commands = all_commands()
    for page in doc_pages():
        text = page.read_text(encoding="utf-8")

        def regenerate(match: re.Match) -> str:
            name = match["command"]
            documented.add(name)
            if name not in commands:
                problems.append(f"{page.relative_to(ROOT)}: table for unknown command {name!r}")
                return match.group(0)
            table = option_table(commands[name])
            if match["body"] != table:
                problems.append(f"{page.relative_to(ROOT)}: options of `t2vid {name}` differ from --help")
            return match.group(1) + table + match.group(4)

        new = BLOCK.sub(regenerate, text)
        if new != text and not args.check:
            page.write_text(new, encoding="utf-8")
    missing = [f"no option table for `t2vid {name}` (add <!-- options: {name} --><!-- /options --> to its docs page)" for name in sorted(set(commands) - documented) if any(isinstance(p, click.Option) for p in commands[name].params if p.name != "help")]
    if args.check:
        problems += missing
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python3 scripts/gen_docs.py", file=sys.stderr)
        return 1 if problems else 0
    for problem in [p for p in problems if "unknown command" in p] + missing:
        print(problem, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
