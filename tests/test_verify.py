"""`t2vid verify --ocr`: frames read back by Tesseract match their record texts."""

from __future__ import annotations

import json
import random
import shutil

import pytest
from conftest import license_text, run_synth, write_jsonl

from t2vid.cli import main
from t2vid.inspect.verify import detect_lang, edit_distance, normalise

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs the tesseract binary")


@pytest.fixture(scope="module")
def english_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    source = write_jsonl(root / "en.jsonl", [{"context": license_text("BSD"), "question": "Conditions?", "answer": "Three."}])
    run_synth(root / "out", source)
    return root / "out"


def verify(out, *flags) -> int:
    return main(["verify", str(out), "--ocr", "--json", *flags])


def test_clean_frames_pass_under_the_bar(english_out, capsys):
    assert verify(english_out) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == report["frames_available"] >= 2
    assert report["passed"] and report["cer"] <= 0.02
    assert set(report["languages"]) == {"eng"}


def test_wrong_record_text_fails(english_out, tmp_path, capsys):
    altered = tmp_path / "altered"
    shutil.copytree(english_out, altered)
    shard = altered / "shards" / "shard-00000.jsonl"
    record = json.loads(shard.read_text())
    record["texts"] = record["texts"][1:] + record["texts"][:1]  # texts no longer match their frames
    shard.write_text(json.dumps(record) + "\n")
    assert verify(altered, "--max-cer", "0.01") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["cer"] > 0.05 and not report["passed"]
    assert report["worst"][0]["path"] in record["images"]


def test_text_report_lists_languages_and_verdict(english_out, capsys):
    assert main(["verify", str(english_out), "--ocr", "--sample", "1"]) == 0
    out = capsys.readouterr().out
    assert "eng" in out and "overall" in out
    assert out.strip().splitlines()[-1].startswith("ok: overall CER")


def test_same_seed_same_sample(english_out, capsys):
    picks = []
    for seed in (3, 3):
        verify(english_out, "--sample", "1", "--seed", str(seed), "--max-cer", "1")
        picks.append(json.loads(capsys.readouterr().out))
    assert picks[0] == picks[1]


def test_without_ocr_flag_is_a_usage_error(english_out, capsys):
    assert main(["verify", str(english_out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--ocr" in err and len(err.splitlines()) == 1


def test_missing_tesseract_gives_install_hint(english_out, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert verify(english_out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "apt-get install tesseract-ocr" in err


def test_edit_distance_matches_the_textbook_table():
    def table(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            previous, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
        return row[-1]

    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("ab字c") for _ in range(rng.randrange(0, 90)))
        b = "".join(rng.choice("abd字") for _ in range(rng.randrange(0, 90)))
        assert edit_distance(a, b) == table(a, b)


def test_normalise_ignores_layout_and_typographic_variants():
    assert normalise("“Licensor”  shall\nmean — the ，") == normalise('"Licensor" shall mean - the,')
    assert normalise("a\u25a1b", missing="\u25a1") == "ab"


@pytest.mark.parametrize(
    "text, lang",
    [("Plain English text.", "eng"), ("活字印刷术是中国古代的发明。", "chi_sim"), ("我们用 Python 做分析。", "chi_sim+eng"), ("ひらがなと漢字", "jpn")],
)
def test_language_follows_the_script(text, lang):
    assert detect_lang(text) == lang
