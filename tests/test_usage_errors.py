"""Bad usage found anywhere (flags, profile and preset YAML, special files) is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from t2vid.cli import main

from conftest import FIXTURES

GENERIC = FIXTURES / "generic-sample.jsonl"
FAST = ["--workers", "1", "--size", "224x224", "--limit", "2", "-q"]


def run_cli(args) -> int:
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


def _one_line(capsys, *expected):
    err = capsys.readouterr().err
    assert err.startswith("t2vid") and err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


@pytest.mark.parametrize("yaml_text,message", [
    ("description: x\nmax_frames: -5\n", "max_frames"),
    ("description: x\nmax_frames: 2.5\n", "max_frames"),
    ("description: x\ntokens_per_frame: \"x\"\n", "tokens_per_frame"),
    ("description: x\nmax_tokens: [1]\n", "max_tokens"),
    ("description: x\nmax_frames: true\n", "max_frames"),
    ("description: x\nmax_frame: 5\n", "unknown key"),
    ("- a\n- b\n", "mapping"),
])
def test_profile_values_are_checked_like_flags(tmp_path, capsys, yaml_text, message):
    profile = tmp_path / "p.yaml"
    profile.write_text(yaml_text)
    assert run_cli(["synth", GENERIC, "-o", tmp_path / "o", *FAST, "--profile", profile]) == 2
    _one_line(capsys, message, str(profile))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("yaml_text,message", [
    ("parser: fields\nfields: {context: c, question: q, answer: a}\n", "missing `description`"),
    ("description: 5\nparser: fields\nfields: {context: c, question: q, answer: a}\n", "description"),
    ("description: d\nparser: fields\nfields: [1]\n", "fields"),
    ("description: d\nparser: fields\nfields: {context: c, question: q, answer: a}\nmin_context_words: -1\n", "min_context_words"),
    ("description: d\nparser: fields\nfields: {context: c, question: q, answer: a}\ninstruction_template: 'no placeholder'\n", "{question}"),
])
def test_preset_values_are_checked(tmp_path, capsys, yaml_text, message):
    preset = tmp_path / "mine.yaml"
    preset.write_text(yaml_text)
    assert run_cli(["synth", GENERIC, "-o", tmp_path / "o", *FAST, "--preset", preset]) == 2
    _one_line(capsys, message)


def test_instruction_template_without_placeholder_names_the_flag_and_value(tmp_path, capsys):
    assert run_cli(["synth", GENERIC, "-o", tmp_path / "o", *FAST, "--instruction-template", "{"]) == 2
    _one_line(capsys, "--instruction-template '{'", "{question}")


@pytest.mark.parametrize("option", ["source", "--config", "--font"])
@pytest.mark.parametrize("special", ["fifo", "device", "loop"])
def test_special_files_are_named_not_read(tmp_path, option, special):
    name = {"source": "in.jsonl", "--config": "c.yaml", "--font": "f.ttf"}[option]
    path = tmp_path / name
    if special == "fifo":
        os.mkfifo(path)
    elif special == "device":
        path.symlink_to("/dev/zero")
    else:
        path.symlink_to(path)
    args = [str(path)] if option == "source" else [str(GENERIC), option, str(path)]
    result = subprocess.run([sys.executable, "-m", "t2vid.cli", "synth", *args, "-o", str(tmp_path / "o"), *FAST], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    kind = {"fifo": "FIFO", "device": "character device", "loop": "symlink loop"}[special]
    assert kind in result.stderr and "not found" not in result.stderr


def test_glob_matching_a_symlink_loop_is_one_line(tmp_path, capsys):
    (tmp_path / "loop.jsonl").symlink_to(tmp_path / "loop.jsonl")
    assert run_cli(["synth", tmp_path / "*.jsonl", "-o", tmp_path / "o", *FAST]) == 2
    _one_line(capsys, "symlink loop")


def test_oversized_config_file_is_refused(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("# padding\n" * 600_000)
    assert run_cli(["synth", GENERIC, "-o", tmp_path / "o", *FAST, "--config", config]) == 2
    _one_line(capsys, "MiB")


def test_render_into_a_missing_folder_is_exit_2(tmp_path, capsys):
    assert run_cli(["render", "hello", "-o", tmp_path / "missing" / "x.png"]) == 2
    _one_line(capsys, "missing")


def test_preview_refuses_a_sheet_name_that_is_not_png(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(["synth", GENERIC, "-o", out, *FAST]) == 0
    assert run_cli(["preview", out, "-o", tmp_path / "x.txt"]) == 2
    _one_line(capsys, ".png")
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("settings,message", [
    ({"words_per_frame": 0}, "--words-per-frame must be at least 1"),
    ({"instruction_template": "no placeholder"}, "{question}"),
])
def test_a_synth_config_built_in_python_is_checked_like_flags(tmp_path, settings, message):
    from t2vid import SynthConfig, synth
    from t2vid.errors import UsageError

    with pytest.raises(UsageError, match=message):
        synth(SynthConfig(sources=(str(GENERIC),), output=str(tmp_path / "o"), workers=1, quiet=True, **settings))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("existing", [False, True])
def test_a_source_failing_partway_leaves_an_empty_out_as_it_was(tmp_path, monkeypatch, existing):
    """Chunks read before the failure have drawn frames already; with no shard committed, they go, and OUT is as before the run."""
    from t2vid import SynthConfig, synth
    from t2vid import run
    from t2vid.errors import UsageError
    from t2vid.pipeline import CHUNK_WORK
    from t2vid.sources import RawRecord, SourceRef

    def failing_stream(*_args, **_kwargs):
        for index in range(4):  # each record a chunk of its own
            yield RawRecord(index, SourceRef("data", "train", index), {"context": f"record {index} " + "word " * (CHUNK_WORK // 5), "question": "q", "answer": "a"})
        raise UsageError("cannot read second.parquet: broken")

    monkeypatch.setattr(run, "iter_records", failing_stream)
    out = tmp_path / "o"
    if existing:
        out.mkdir()
    with pytest.raises(UsageError, match="broken"):
        synth(SynthConfig(sources=(str(GENERIC),), output=str(out), workers=1, quiet=True))
    assert (list(out.iterdir()) == [] if existing else not out.exists())


@pytest.mark.parametrize("typed, meant", [("valdate", "validate"), ("expor", "export"), ("synt", "synth")])
def test_a_misspelt_command_gets_a_suggestion_whether_or_not_it_is_loaded_yet(capsys, typed, meant):
    assert main([typed]) == 2
    assert capsys.readouterr().err.strip() == f"t2vid: error: No such command '{typed}'. Did you mean '{meant}'?"
