"""`t2vid stats`: counts that match the records, languages, glyphs, rejects, budgets and the plot."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from t2vid.budget import Budget
from t2vid.charset import count_words
from t2vid.cli import main
from t2vid.layout import split_units
from t2vid.inspect.stats import PANEL_HEIGHT, PLOT_WIDTH, Distribution, Panel, collect_stats, detect_language, draw_histograms, nice_step

from conftest import license_text, shard_lines, synth_records

CHINESE = "活字印刷术是中国古代的重要发明。北宋庆历年间，平民毕昇用胶泥制字，每字一印，用火烧硬后成为活字。" * 6


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    records = [
        {"context": license_text("Apache-2.0", 400), "question": "What is licensed?", "answer": "The Work."},
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        {"context": CHINESE, "question": "谁发明了活字？", "answer": "毕昇。"},
        {"context": license_text("MPL-2.0", 150) + " \ue000 private", "question": "Is it free?", "answer": "Yes."},
        {"question": "No context?", "answer": "Rejected."},
        {"context": "", "question": "Empty?", "answer": "Rejected."},
    ]
    output = synth_records(folder, records, words_per_frame=40)
    return output


@pytest.fixture
def tiny_profile(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("description: test\nmax_frames: 5\ntokens_per_frame: 10\nmax_tokens: 100\n")
    return str(path)


def test_counts_match_the_records(out):
    records = shard_lines(out)
    stats, frames, tokens = collect_stats(out)
    per_sample = [r["num_frames"] for r in records]
    assert stats.samples == len(records) == 4
    assert stats.frames == sum(per_sample) == json.loads((out / "manifest.json").read_text())["frames"]
    assert frames == per_sample and tokens == []
    assert stats.frames_per_sample.min == min(per_sample) and stats.frames_per_sample.max == max(per_sample)
    assert stats.words_per_frame.max <= 40  # the segmenter's word budget
    assert stats.frame_files == len({path for r in records for path in r["images"]})
    assert stats.budget is None


def test_languages_glyphs_and_rejects(out):
    stats, _, _ = collect_stats(out)
    assert stats.languages == {"en": 3, "zh": 1}
    assert stats.missing_glyphs == {"\ue000": 1} and stats.samples_with_missing_glyphs == 1
    assert stats.rejected == 2 and sum(stats.rejected_by_reason.values()) == 2
    assert "missing_field" in stats.rejected_by_reason


def test_budget_uses_the_profile(out, tiny_profile):
    records = shard_lines(out)
    stats, _, tokens = collect_stats(out, tiny_profile)
    budget = Budget(tiny_profile)
    expected = [budget.total_tokens([r["instruction"], r["answer"]], r["num_frames"]) for r in records]
    assert tokens == expected
    assert stats.budget.over_tokens == sum(t > 100 for t in expected)
    assert stats.budget.over_frames == sum(r["num_frames"] > 5 for r in records)
    assert stats.budget.over_budget == sum(t > 100 or r["num_frames"] > 5 for t, r in zip(expected, records)) > 0
    assert stats.budget.tokens_per_sample.max == max(expected)


def test_cli_json_report_and_plot(out, tiny_profile, tmp_path, capsys):
    plot = tmp_path / "plots" / "hist.png"
    assert main(["stats", str(out), "--json", "--profile", tiny_profile, "--plot", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["samples"] == 4 and data["languages"]["zh"] == 1
    assert set(data["frames_per_sample"]) == {"min", "p50", "p90", "p99", "max", "mean"}
    assert data["budget"]["profile"] == "tiny" and data["budget"]["max_tokens"] == 100
    with Image.open(plot) as image:
        assert image.size == (PLOT_WIDTH, 2 * PANEL_HEIGHT)  # frames and tokens panels
        colours = {colour for _, colour in image.getcolors(maxcolors=100_000)}
        assert (0x4C, 0x72, 0xB0) in colours  # bars drawn
    first = plot.read_bytes()
    assert main(["stats", str(out), "--profile", tiny_profile, "--plot", str(plot)]) == 0
    assert plot.read_bytes() == first
    report = capsys.readouterr().out
    assert "frames/sample" in report and "tokens/sample" in report and "over budget" in report


def test_unknown_profile_is_one_line_error(out, capsys):
    assert main(["stats", str(out), "--profile", "no-such-model"]) == 2
    assert capsys.readouterr().err.startswith("t2vid: error: unknown profile 'no-such-model'")


@pytest.mark.parametrize(
    "text, language",
    [
        ("The licensor grants you a copy of the work and the right to use it.", "en"),
        ("Le concédant vous accorde une copie de l'œuvre et le droit de l'utiliser.", "latin"),
        ("活字印刷术是中国古代的重要发明。", "zh"),
        ("これは日本語の文章です。ひらがなとカタカナがあります。", "ja"),
        ("이것은 한국어 문장입니다.", "ko"),
        ("Лицензиар предоставляет вам копию произведения.", "other"),
        ("1234 5678 -- !!", "none"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_distribution_is_nearest_rank():
    dist = Distribution.of(range(1, 101))
    assert (dist.min, dist.p50, dist.p90, dist.p99, dist.max, dist.mean) == (1, 50, 90, 99, 100, 50.5)
    assert Distribution.of([]) is None


def test_histogram_handles_wide_ranges_and_limits():
    assert [nice_step(x) for x in (0.3, 1, 3, 7, 12, 480)] == [1, 1, 5, 10, 20, 500]
    image = draw_histograms([Panel("tokens", list(range(0, 10_000, 7)), "tokens", limit=5000)])
    assert image.size == (PLOT_WIDTH, PANEL_HEIGHT)
    assert (0xC4, 0x4E, 0x52) in {colour for _, colour in image.getcolors(maxcolors=100_000)}  # the limit line
    empty = draw_histograms([Panel("frames", [], "frames")])
    assert (0x4C, 0x72, 0xB0) not in {colour for _, colour in empty.getcolors(maxcolors=100_000)}  # no bars


def test_unreadable_output_is_one_line_error(out, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "shards" / "shard-00000.jsonl").unlink()
    assert main(["stats", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"t2vid: error: cannot read {broken}: ") and f"`t2vid validate {broken}`" in err and err.count("\n") == 1


def test_tokenizer_without_profile_is_a_usage_error(out, capsys):
    assert main(["stats", str(out), "--tokenizer", "gpt2"]) == 2
    assert capsys.readouterr().err.strip() == "t2vid: error: --tokenizer counts text tokens toward a model budget: give --profile too"


@pytest.mark.parametrize("command, option", [("stats", "--plot"), ("diversity", "--map"), ("preview", "-o")])
def test_an_image_name_that_is_not_png_is_refused_and_the_file_kept(out, tmp_path, capsys, command, option):
    data = tmp_path / "my.jsonl"
    data.write_text('{"context": "mine"}\n')
    assert main([command, str(out), option, str(data)]) == 2
    assert capsys.readouterr().err.strip() == f"t2vid: error: {option} {data}: the image written there is a PNG; give a .png file name"
    assert data.read_text() == '{"context": "mine"}\n'


def test_an_unwritable_plot_is_one_line(out, tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    assert main(["stats", str(out), "--plot", str(blocker / "p.png")]) == 2
    assert capsys.readouterr().err.strip() == f"t2vid: error: cannot create directory {blocker}: a file of that name is in the way"
    assert main(["stats", str(out), "--plot", str(tmp_path)]) == 2  # a directory where the PNG goes
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path) in err


def test_a_broken_reject_line_names_its_location(out, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    rejects = broken / "rejects" / "shard-00000.jsonl"
    rejects.write_text(rejects.read_text() + "[1, 2]\n")
    assert main(["stats", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{rejects}:3: reject has no string 'reason'" in err


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from("中文，。「」（）かな한글 abc“”—\u00ad\u0301\u200b\n")), max_size=200))
def test_frame_word_count_is_the_layouters_unit_count(text):
    assert count_words(text) == sum(not unit.joined for unit in split_units(text))
