"""Model budgets: profile limits, reject reasons that show the numbers, frame bounds and --fit-budget."""

from __future__ import annotations

import importlib.util
import json

import pytest

from t2vid.budget import Budget, estimate_tokens, list_profiles, load_profile
from t2vid.cli import main
from t2vid.errors import UsageError

from conftest import license_text, run_synth, shard_lines, write_jsonl


@pytest.mark.parametrize("name,max_frames,tokens_per_frame,max_tokens", [
    ("minicpm-v-2.5", 90, 96, 8192),
    ("idefics3", 65, 169, 10240),
    ("sparrow-minicpm", 100, 96, 10240),
])
def test_profiles_carry_the_paper_limits(name, max_frames, tokens_per_frame, max_tokens):
    profile = load_profile(name)
    assert (profile.max_frames, profile.tokens_per_frame, profile.max_tokens) == (max_frames, tokens_per_frame, max_tokens)
    assert name in list_profiles()


def test_estimate_counts_latin_by_four_characters_and_cjk_one_each():
    assert estimate_tokens("abcd" * 25) == 25
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("中文字") == 3
    assert estimate_tokens("") == 0


def test_frame_limit_comes_before_tokens_and_reasons_show_the_numbers():
    minicpm = Budget("minicpm-v-2.5")
    assert minicpm.over(["q"], 91).detail == "over budget: 91 frames > 90"
    assert minicpm.over(["x" * 100], 85) is None  # 85 x 96 + 25 = 8185 tokens
    assert minicpm.over(["x" * 100], 86).detail == "over budget: 8281 tokens (86 frames x 96 + text) > 8192"
    idefics = Budget("idefics3")
    assert idefics.over(["x" * 400], 60) is None  # 60 x 169 + 100 = 10240, exactly the limit
    assert idefics.over(["x" * 401], 60).detail == "over budget: 10241 tokens (60 frames x 169 + text) > 10240"
    assert idefics.over([], 66).detail == "over budget: 66 frames > 65"
    sparrow = Budget("sparrow-minicpm")
    assert sparrow.over(["q", "a"], 100) is None
    assert sparrow.over([], 101).detail == "over budget: 101 frames > 100"


def test_every_text_counts_toward_tokens():
    budget = Budget("idefics3")
    assert budget.over(["x" * 200, "x" * 201], 60).detail == "over budget: 10241 tokens (60 frames x 169 + text) > 10240"


def test_max_frames_takes_the_tighter_limit_and_min_frames_is_a_floor():
    assert Budget("idefics3", max_frames=100).max_frames == 65
    assert Budget("idefics3", max_frames=30).max_frames == 30
    bare = Budget(max_frames=10, min_frames=3)
    assert bare.over(["x" * 10_000], 10) is None  # no profile: no token limit
    assert bare.over([], 11).detail == "over budget: 11 frames > 10"
    assert (bare.under(2).detail, bare.under(3)) == ("too few frames: 2 < 3", None)
    unlimited = Budget()
    assert unlimited.over(["x" * 10_000], 10_000) is None and unlimited.under(0) is None


def test_a_profile_yaml_file_and_its_errors(tmp_path):
    path = tmp_path / "tiny-model.yaml"
    path.write_text("description: a tiny model\nmax_frames: 12\ntokens_per_frame: 50\nmax_tokens: 400\n")
    budget = Budget(str(path))
    assert budget.profile.name == "tiny-model" and budget.max_frames == 12
    assert budget.over([], 8) is None  # 8 x 50 = 400, exactly the limit
    assert budget.over(["abcd"], 8).detail == "over budget: 401 tokens (8 frames x 50 + text) > 400"
    with pytest.raises(UsageError, match="unknown profile 'nosuch'; known profiles: idefics3, minicpm-v-2.5, sparrow-minicpm"):
        Budget("nosuch")
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_frame: 3\n")
    with pytest.raises(UsageError, match="profile .*bad.yaml: .*max_frame"):
        load_profile(str(bad))


# --- through `t2vid synth` -------------------------------------------------------

@pytest.fixture
def lengths_jsonl(tmp_path):
    """A 100-word and a 400-word context: about 5 and 19 frames at 224x224."""
    records = [{"context": license_text("Apache-2.0", words), "question": "What is it?", "answer": "A license."} for words in (100, 400)]
    return write_jsonl(tmp_path / "lengths.jsonl", records)


def _rejects(out) -> list[str]:
    return [json.loads(line)["reason"] for line in (out / "rejects" / "shard-00000.jsonl").read_text().splitlines()]


def _frames(out) -> list[int]:
    return [s["num_frames"] for s in shard_lines(out)]


def test_synth_max_and_min_frames(tmp_path, lengths_jsonl):
    plain = tmp_path / "plain"
    run_synth(plain, lengths_jsonl, size="224x224")
    short, long = _frames(plain)
    assert short < 12 < long
    capped = tmp_path / "capped"
    assert main(["synth", str(lengths_jsonl), "-o", str(capped), "--size", "224x224", "--workers", "1", "-q", "--max-frames", "12"]) == 0
    assert _frames(capped) == [short]
    assert _rejects(capped) == [f"over budget: {long} frames > 12"]
    manifest = json.loads((capped / "manifest.json").read_text())
    assert manifest["rejected_by_reason"] == {"over_frame_budget": 1}
    floored = tmp_path / "floored"
    assert main(["synth", str(lengths_jsonl), "-o", str(floored), "--size", "224x224", "--workers", "1", "-q", "--min-frames", str(short + 1)]) == 0
    assert _frames(floored) == [long]
    assert _rejects(floored) == [f"too few frames: {short} < {short + 1}"]


def test_fit_budget_packs_an_over_budget_sample_into_fewer_frames(tmp_path, lengths_jsonl):
    without = run_synth(tmp_path / "without", lengths_jsonl, size="224x224", max_frames=12)
    assert (without.samples, sum(without.rejected.values())) == (1, 1)
    fitted = run_synth(tmp_path / "fitted", lengths_jsonl, size="224x224", max_frames=12, fit_budget=True)
    assert (fitted.samples, sum(fitted.rejected.values())) == (2, 0)
    short, long = shard_lines(tmp_path / "fitted")
    assert "style" not in short  # a sample within budget keeps the requested layout
    assert long["num_frames"] <= 12 and long["style"]["font_size"] < 20
    assert "".join("".join(long["texts"]).split()) == "".join(license_text("Apache-2.0", 400).split())  # denser, not shorter


def test_synth_user_profile_rejects_on_tokens(tmp_path, lengths_jsonl):
    profile = tmp_path / "small-model.yaml"
    profile.write_text("description: small\ntokens_per_frame: 100\nmax_tokens: 1000\n")
    run_synth(tmp_path / "plain", lengths_jsonl, size="224x224")
    long_frames = _frames(tmp_path / "plain")[1]
    out = tmp_path / "out"
    summary = run_synth(out, lengths_jsonl, size="224x224", profile=str(profile))
    assert summary.samples == 1
    text_tokens = estimate_tokens("What is it?") + estimate_tokens("A license.")
    assert _rejects(out) == [f"over budget: {long_frames * 100 + text_tokens} tokens ({long_frames} frames x 100 + text) > 1000"]


@pytest.mark.parametrize("args,message", [
    (["--profile", "nosuch"], "t2vid: error: unknown profile 'nosuch'; known profiles: idefics3, minicpm-v-2.5, sparrow-minicpm"),
    pytest.param(["--tokenizer", "gpt2"], "t2vid: error: --tokenizer needs the transformers package: pip install transformers",
                 marks=pytest.mark.skipif(importlib.util.find_spec("transformers") is not None, reason="transformers is installed")),
])
def test_budget_usage_errors_are_one_line(tmp_path, capsys, args, message):
    assert main(["synth", "-o", str(tmp_path / "out"), "-q", *args]) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (tmp_path / "out").exists()
