"""`t2vid synth` end to end: the output contract, rejects, determinism, fidelity, usage errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from PIL import Image

from t2vid.charset import is_invisible
from t2vid.cli import main
from t2vid.fonts import FontChain, resolve_face
from t2vid.layout import split_units

from conftest import FIXTURES, run_synth, shard_lines, tree_bytes, write_jsonl

GENERIC = FIXTURES / "generic-sample.jsonl"


def _squash(text: str) -> str:
    return "".join(c for c in text if not c.isspace() and not is_invisible(c))


def test_fixture_contract_and_rejects(tmp_path):
    out = tmp_path / "out"
    summary = run_synth(out, GENERIC, size="224x224", words_per_frame=40)
    manifest = json.loads((out / "manifest.json").read_text())
    samples = shard_lines(out)
    rejects = [json.loads(line) for path in manifest["rejects"] for line in (out / path).read_text().splitlines()]
    assert manifest["status"] == "complete"
    assert manifest["samples"] == len(samples) == 3
    assert manifest["rejected"] == len(rejects) == 5
    assert manifest["read"] == manifest["samples"] + manifest["rejected"] == 8
    assert manifest["frames"] == sum(s["num_frames"] for s in samples)
    assert manifest["t2vid_version"] and manifest["config"]["words_per_frame"] == 40
    reasons = {r["index"]: r["reason"] for r in rejects}
    assert reasons[2].startswith("line 3 is not valid JSON")
    assert reasons[4] == "missing field 'context'"
    assert reasons[5] == "empty 'context'"
    assert reasons[6] == "'context' is not a string (got int)"
    assert reasons[7] == "'answer' is not a string (got null)"
    assert rejects[0]["record"].startswith('{"context": "this line is broken JSON"')
    assert rejects[1]["record"] == {"question": "No context here?", "answer": "none"}
    ids = [s["id"] for s in samples]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_.-]+", i) for i in ids)
    for sample in samples:
        assert len(sample["images"]) == len(sample["texts"]) == sample["num_frames"] > 0
        assert sample["source"]["split"] == "train" and isinstance(sample["source"]["index"], int)
        assert sample["images"] == sorted(sample["images"])
        for path in sample["images"]:
            with Image.open(out / path) as image:
                assert image.size == (224, 224)
    rocket_drawable = FontChain(resolve_face(None)).face_for("🚀") is not None  # fonts-noto-color-emoji or fonts-symbola has it
    expected = [] if rocket_drawable else ["🚀"]
    assert [s["missing_glyphs"] for s in samples] == [[], [], expected]
    assert manifest["missing_glyphs"] == ({} if rocket_drawable else {"🚀": 1})
    assert summary.samples == 3


def test_fidelity_and_word_budget(tmp_path):
    out = tmp_path / "out"
    run_synth(out, GENERIC, words_per_frame=115)
    records = {i: json.loads(line) for i, line in enumerate(GENERIC.read_text().splitlines()) if i in (0, 1, 3)}
    for sample in shard_lines(out):
        context = records[sample["source"]["index"]]["context"]
        expected = _squash("".join(c for c in context if c not in sample["missing_glyphs"]))
        assert _squash("".join(sample["texts"])) == expected
        assert all(len(split_units(text)) <= 115 for text in sample["texts"])


def test_output_identical_for_any_worker_count(tmp_path, english_jsonl):
    one, two = tmp_path / "one", tmp_path / "two"
    run_synth(one, english_jsonl, GENERIC, shard_size=2, workers=1, size="256x256")
    run_synth(two, english_jsonl, GENERIC, shard_size=2, workers=2, size="256x256")
    assert tree_bytes(one) == tree_bytes(two)
    m1, m2 = (json.loads((d / "manifest.json").read_text()) for d in (one, two))
    assert m1.pop("run")["workers"] == 1 and m2.pop("run")["workers"] == 2
    assert m1 == m2  # only `run` differs


def test_same_context_frames_rendered_once(tmp_path, english_jsonl):
    out = tmp_path / "out"
    run_synth(out, english_jsonl, size="256x256")
    samples = shard_lines(out)
    assert samples[0]["images"] == samples[1]["images"]  # two questions on one document
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["frames_reused"] == samples[0]["num_frames"]
    assert manifest["frame_files"] == manifest["frames"] - manifest["frames_reused"]


def test_config_file_with_flags_winning(tmp_path, english_jsonl):
    config = tmp_path / "c.yaml"
    config.write_text("size: 300x200\nfont-size: 14\nwords_per_frame: 30\n")
    out = tmp_path / "out"
    assert main(["synth", str(english_jsonl), "-o", str(out), "--config", str(config), "--font-size", "16", "-q", "--workers", "1"]) == 0
    style = json.loads((out / "manifest.json").read_text())["config"]["style"]
    assert (style["width"], style["height"], style["font_size"]) == (300, 200, 16)
    assert all(len(t.split()) <= 30 for s in shard_lines(out) for t in s["texts"])


def test_resume_refuses_frames_of_another_png_encoder(tmp_path, english_jsonl, capsys):
    """Frames written by another deflate (an older t2vid, or zlib where ISA-L is missing) have the same pixels but other bytes:
    resuming would mix them into an OUT that differs from a clean run."""
    out = tmp_path / "out"
    assert main(["synth", str(english_jsonl), "-o", str(out), "-q", "--workers", "1", "--shard-size", "2"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["png_deflate"] = "zlib 1.2.13"
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert main(["synth", str(english_jsonl), "-o", str(out), "-q", "--workers", "1", "--shard-size", "2"]) == 2
    err = capsys.readouterr().err
    assert "different settings (png_deflate)" in err and err.count("\n") == 1
    assert main(["synth", str(english_jsonl), "-o", str(out), "-q", "--workers", "1", "--shard-size", "2", "--overwrite"]) == 0


def test_resume_refuses_other_settings_and_overwrite_starts_over(tmp_path, english_jsonl, capsys):
    out = tmp_path / "out"
    assert main(["synth", str(english_jsonl), "-o", str(out), "-q", "--workers", "1"]) == 0
    assert main(["synth", str(english_jsonl), "-o", str(out), "-q", "--workers", "1", "--font-size", "24"]) == 2
    err = capsys.readouterr().err
    assert "different settings (style.font_size)" in err and err.count("\n") == 1
    assert main(["synth", str(english_jsonl), "-o", str(out), "-q", "--workers", "1", "--font-size", "24", "--overwrite"]) == 0
    assert json.loads((out / "manifest.json").read_text())["config"]["style"]["font_size"] == 24


@pytest.mark.parametrize("args,message", [
    (["--size", "448"], "--size must look like WIDTHxHEIGHT"),
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--font", "/no/such/font.ttf"], "font file not found"),
    (["--font", "No Such Family Xyz"], "font family not installed"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--fg", "notacolour"], "not a colour"),
    (["--segmenter", "bogus"], "Invalid value for '--segmenter'"),
])
def test_bad_usage_exits_2_with_one_line(tmp_path, capsys, args, message):
    assert main(["synth", str(GENERIC), "-o", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_source_file(tmp_path, capsys):
    assert main(["synth", str(tmp_path / "absent.jsonl"), "-o", str(tmp_path / "o")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_non_empty_foreign_output_is_refused(tmp_path, capsys):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "precious.txt").write_text("keep me")
    assert main(["synth", str(GENERIC), "-o", str(tmp_path / "o"), "-q"]) == 2
    assert (tmp_path / "o" / "precious.txt").read_text() == "keep me"


def test_cli_on_builtin_sample_says_so(tmp_path):
    result = subprocess.run([sys.executable, "-m", "t2vid.cli", "synth", "-o", str(tmp_path / "s"), "--workers", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "built-in sample" in result.stderr
    assert "samples written   5" in result.stderr
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["samples"] == 5 and manifest["rejected"] == 0


def test_ids_and_paths_never_come_from_record_content(tmp_path):
    hostile = tmp_path / "in put"
    hostile.mkdir()
    data = write_jsonl(hostile / "..evil name;rm.jsonl", [{"id": "../../etc/passwd", "context": "some words here", "question": "q", "answer": "a"}])
    out = tmp_path / "out"
    run_synth(out, data)
    (sample,) = shard_lines(out)
    assert sample["id"] == "evil_name_rm-00000000"
    for path in sample["images"]:
        assert re.fullmatch(r"frames/[0-9a-f]{2}/[0-9a-f]{24}/f\d{3}\.png", path)
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written <= {"manifest.json", "shards", "rejects", "frames", ".tmp", ".lock", ".t2vid-owner.json"}


def test_unwritable_output_is_a_clean_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["synth", str(GENERIC), "-o", str(blocker / "sub"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err or "not a directory" in err
    assert err.count("\n") == 1


def test_style_jitter_is_seeded_and_per_sample(tmp_path, english_jsonl):
    runs = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        run_synth(tmp_path / name, english_jsonl, style_jitter=True, jitter_fonts=("DejaVu Sans", "DejaVu Serif"), seed=seed, mode="RGB", size="224x224")
        runs.append([s["style"] for s in shard_lines(tmp_path / name)])
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert len({(s["font"], s["font_size"], s["fg"]) for s in runs[0]}) > 1
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    sample = shard_lines(tmp_path / "a")[0]
    with Image.open(tmp_path / "a" / sample["images"][0]) as image:
        assert image.getpixel((0, 0)) == tuple(int(sample["style"]["bg"][i : i + 2], 16) for i in (1, 3, 5))


def test_style_jitter_in_grayscale_records_the_greys_drawn(tmp_path, english_jsonl):
    run_synth(tmp_path / "out", english_jsonl, style_jitter=True, seed=3, size="224x224")
    for sample in shard_lines(tmp_path / "out"):
        fg, bg = (sample["style"][key] for key in ("fg", "bg"))
        assert fg[1:3] == fg[3:5] == fg[5:7] and bg[1:3] == bg[3:5] == bg[5:7]
        with Image.open(tmp_path / "out" / sample["images"][0]) as image:
            assert image.mode == "L" and image.getpixel((0, 0)) == int(bg[1:3], 16)
            assert int(fg[1:3], 16) in {value for _, value in image.getcolors()}


def test_python_api_as_in_the_readme(tmp_path, english_jsonl, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from t2vid import RenderStyle, build_config, read_output, render_text, synth

    summary = synth(build_config({"sources": (str(english_jsonl),), "output": "out", "workers": 2, "quiet": True}))
    samples = list(read_output("out"))
    assert summary.samples == len(samples) == 4
    frames = render_text("Some text", RenderStyle(font_size=24))
    assert len(frames) == 1 and frames[0].size == (448, 448)
