"""The module graph: no import cycles anywhere in t2vid, and a base layer that imports no stage.

Read from the source with `ast`, so it counts every import, also the ones
inside functions: a cycle through a lazy import is still a cycle a newcomer
has to untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "t2vid"
BASE_LAYER = ("t2vid.errors", "t2vid.config", "t2vid.presets", "t2vid.rejects", "t2vid.style", "t2vid.files")
STAGES = ("t2vid.sources", "t2vid.adapt", "t2vid.parsers", "t2vid.segment", "t2vid.layout", "t2vid.measure", "t2vid.bidi", "t2vid.budget", "t2vid.tasks", "t2vid.phrasings", "t2vid.render", "t2vid.stages", "t2vid.pipeline", "t2vid.writer", "t2vid.run", "t2vid.progress", "t2vid.engines", "t2vid.exports", "t2vid.inspect")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The t2vid modules `name` imports, wherever in the file; `from pkg import mod` counts as importing pkg.mod."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in MODULES:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module)
    found.discard(name)
    found.discard("t2vid")  # the root holds only __version__ and a lazy public API; every module loads it first anyway
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def cycle_through(start: str) -> list[str] | None:
    """A path start -> ... -> start, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        name, path = stack.pop()
        for target in sorted(GRAPH[name]):
            if target == start:
                return path + [start]
            if target not in seen:
                seen.add(target)
                stack.append((target, path + [target]))
    return None


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in GRAPH[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def is_stage(name: str) -> bool:
    return any(name == stage or name.startswith(stage + ".") for stage in STAGES)


def test_the_graph_is_read_from_the_real_package():
    assert {"t2vid.pipeline", "t2vid.stages", "t2vid.exports.registry", "t2vid.parsers.datasets"} <= set(MODULES)
    assert "t2vid.stages" in GRAPH["t2vid.pipeline"] and "t2vid.exports.hf" in GRAPH["t2vid.exports.registry"]


def test_no_import_cycles():
    cycles = [" -> ".join(path) for name in sorted(MODULES) if (path := cycle_through(name))]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_base_layer_imports_no_stage():
    for name in BASE_LAYER:
        stages = sorted(target for target in reachable(name) if is_stage(target))
        assert not stages, f"{name} reaches stage modules {stages}"


def test_exports_package_loads_no_format_module():
    formats = {name for name in MODULES if name.startswith("t2vid.exports.")} - {"t2vid.exports.base", "t2vid.exports.chat", "t2vid.exports.items", "t2vid.exports.registry", "t2vid.exports.cli", "t2vid.exports.mix"}
    assert not reachable("t2vid.exports") & formats


def test_a_command_imports_only_what_it_runs(tmp_path):
    """Every command starts in the time its own modules take: `t2vid synth` loads no export or inspection module,
    and an inspection command not the synth pipeline (together ~150 ms of each start, measured)."""
    import json
    import subprocess
    import sys

    probe = "import json, sys; from t2vid.cli import cli; cli.main(args=sys.argv[1:], standalone_mode=False); print(json.dumps(sorted(sys.modules)), file=sys.stderr)"

    def loaded(*args: str) -> set[str]:
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
        return set(json.loads(done.stderr.splitlines()[-1]))

    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"context": "A short context of plain words. " * 20, "question": "What?", "answer": "Words."}) + "\n")
    synth = loaded("synth", str(source), "-o", str(tmp_path / "out"), "-q")
    assert "t2vid.pipeline" in synth and not {m for m in synth if m.startswith(("t2vid.exports", "t2vid.inspect"))}
    stats = loaded("stats", "--help")
    assert "t2vid.inspect.cli" in stats and not {"t2vid.pipeline", "t2vid.run", "t2vid.exports.registry"} & stats
