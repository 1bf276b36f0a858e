"""`t2vid preview`: contact sheets (selection, naming, layout, broken frames) and the static HTML gallery."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image, ImageColor

from t2vid.cli import main
from t2vid.errors import UsageError
from t2vid.inspect.preview import GAP, MISSING_FILL, CaptionWriter, contact_sheet, select_samples
from t2vid.output import reservoir_sample

from conftest import license_text, shard_lines, synth_records

HOSTILE = 'Is <script>alert("x")</script> & <b>bold</b> escaped?'


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("preview")
    records = [
        {"context": license_text("Apache-2.0", 300), "question": "What is licensed?", "answer": "The Work."},
        {"context": license_text("BSD"), "question": HOSTILE, "answer": "Yes & no."},
        {"context": "活字印刷术是中国古代的重要发明。" * 20, "question": "谁发明了活字？", "answer": "毕昇。"},
        {"context": license_text("MPL-2.0", 200), "question": "What is a Contributor?", "answer": "A person."},
    ]
    output = synth_records(folder, records, words_per_frame=40, shard_size=2)
    return output


def test_sheet_shows_every_frame_in_a_grid(out, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    assert main(["preview", str(out), "--index", "0", "-o", str(sheet), "--thumb-width", "100", "--columns", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(sheet)
    frames = shard_lines(out)[0]["num_frames"]
    assert frames > 3  # so the grid wraps
    with Image.open(sheet) as image:
        assert image.mode == "L"
        assert image.width == 3 * 100 + 4 * GAP
        rows = -(-frames // 3)
        assert image.height > rows * (100 + GAP)


def test_random_writes_one_named_sheet_per_sample_deterministically(out, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        assert main(["preview", str(out), "--random", "2", "--seed", "3", "-o", str(folder / "sheet.png")]) == 0
    chosen = select_samples(out, random_count=2, seed=3)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(f"sheet-{r['id']}.png" for r in chosen)
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    assert len(select_samples(out, random_count=50)) == 4  # K larger than the output: everything once


def test_select_by_id_and_index(out):
    records = shard_lines(out)
    assert select_samples(out, sample_id=records[2]["id"]) == [records[2]]
    assert select_samples(out, index=3) == [records[3]]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--id", "nope", "-o", "x.png"], "no sample with id 'nope'"),
        (["--index", "99", "-o", "x.png"], "--index 99 is past the last sample"),
        (["--index", "1", "--random", "2", "-o", "x.png"], "choose one of --id, --index and --random"),
        ([], "nothing to write: give -o SHEET.png and/or --html DIR"),
    ],
)
def test_usage_errors_are_one_line(out, tmp_path, capsys, args, message):
    assert main(["preview", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_frame_gets_a_placeholder(out, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    record = shard_lines(broken)[0]
    (broken / record["images"][0]).unlink()
    sheet = tmp_path / "sheet.png"
    assert main(["preview", str(broken), "-o", str(sheet), "--thumb-width", "64"]) == 0
    with Image.open(sheet) as image:
        placeholder = ImageColor.getcolor(MISSING_FILL, image.mode)
        assert image.histogram()[placeholder] > 64 * 64 // 2


def test_long_caption_is_truncated_with_an_ellipsis():
    writer = CaptionWriter(300, max_lines=2)
    frame = writer.fit(" ".join(["word"] * 200))
    assert len(frame.lines) <= 2 and frame.text.endswith("…")
    short = writer.fit("Who?")
    assert short.text == "Who?"
    assert writer.draw(" ".join(["word"] * 200)).height < writer.draw(" ".join(["word"] * 5)).height * 3


def test_gallery_links_resolve_and_text_is_escaped(out, tmp_path, capsys):
    gallery = tmp_path / "site" / "gallery"
    assert main(["preview", str(out), "--html", str(gallery)]) == 0
    assert capsys.readouterr().out.strip() == str(gallery / "index.html")
    pages = sorted(p.name for p in gallery.iterdir())
    assert pages == [".t2vid-owner.json", "index.html", "shard-00000.html", "shard-00001.html"]
    index = (gallery / "index.html").read_text()
    assert 'href="shard-00000.html"' in index and 'href="shard-00001.html"' in index
    records = shard_lines(out)
    linked = []
    for page in ("shard-00000.html", "shard-00001.html"):
        text = (gallery / page).read_text()
        sources = re.findall(r'src="([^"]+)"', text)
        assert sources and all(not Path(unquote(s)).is_absolute() for s in sources)
        assert all((gallery / unquote(s)).resolve().is_file() for s in sources)
        linked += [(gallery / unquote(s)).resolve() for s in sources]
    assert linked == [(out / p).resolve() for r in records for p in r["images"]]
    hostile_page = (gallery / "shard-00000.html").read_text()
    assert "<script>" not in hostile_page and html.escape(HOSTILE) in hostile_page


def test_gallery_never_replaces_a_page_of_the_users(out, tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("my home page")
    assert main(["preview", str(out), "--html", str(site)]) == 2
    error = capsys.readouterr().err
    assert "not empty and was not made by t2vid" in error and "pick another --html" in error
    assert sorted(p.name for p in site.iterdir()) == ["index.html"] and (site / "index.html").read_text() == "my home page"
    assert main(["preview", str(out), "--html", str(out)]) == 2  # OUT is a synth folder, not a gallery
    assert "not a gallery folder" in capsys.readouterr().err


def test_gallery_is_rewritten_in_place_and_keeps_added_files(out, tmp_path):
    gallery = tmp_path / "gallery"
    assert main(["preview", str(out), "--html", str(gallery)]) == 0
    (gallery / "notes.txt").write_text("mine")
    (gallery / "shard-00009.html").write_text("stale page of an earlier gallery")
    marker = json.loads((gallery / ".t2vid-owner.json").read_text())
    (gallery / ".t2vid-owner.json").write_text(json.dumps({**marker, "files": [*marker["files"], "shard-00009.html"]}))
    assert main(["preview", str(out), "--html", str(gallery)]) == 0
    assert sorted(p.name for p in gallery.iterdir()) == [".t2vid-owner.json", "index.html", "notes.txt", "shard-00000.html", "shard-00001.html"]


def test_reservoir_sample_is_seeded_uniform_and_keeps_order():
    first, seen = reservoir_sample(range(1000), 5, seed=7)
    assert seen == 1000 and len(set(first)) == 5 and first == sorted(first)
    assert reservoir_sample(iter(range(1000)), 5, seed=7) == (first, 1000)
    assert reservoir_sample(range(1000), 5, seed=8)[0] != first
    assert reservoir_sample("abc", 10, seed=0) == (["a", "b", "c"], 3)
    assert reservoir_sample([], 3, seed=0) == ([], 0)
    hits = [0] * 10
    for seed in range(2000):
        for value in reservoir_sample(range(10), 3, seed)[0]:
            hits[value] += 1
    assert all(520 < count < 680 for count in hits)  # 600 expected for each


def test_a_record_pointing_outside_out_is_refused(out, tmp_path, capsys):
    hostile = tmp_path / "hostile"
    shutil.copytree(out, hostile)
    shard = hostile / "shards" / "shard-00000.jsonl"
    records = shard_lines(out)
    record = records[0]
    records[0] = {**record, "images": ["../../../../etc/passwd", *record["images"][1:]]}
    shard.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[:2]))  # the first shard holds two
    assert main(["preview", str(hostile), "-o", str(tmp_path / "sheet.png")]) == 2
    assert main(["preview", str(hostile), "--html", str(tmp_path / "gallery")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all("not under frames/" in line for line in errors)
    with pytest.raises(UsageError, match="not under frames/"):
        contact_sheet(out, {**record, "images": ["../../../../etc/passwd"]})


def test_an_unwritable_sheet_path_is_one_line(out, tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    assert main(["preview", str(out), "-o", str(blocker / "sheet.png")]) == 2
    assert main(["preview", str(out), "--html", str(blocker / "gallery")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all(line.startswith("t2vid: error: cannot create directory") for line in errors)


def test_sheet_never_replaces_a_file_of_the_users(out, tmp_path, capsys):
    mine = tmp_path / "sheet.png"
    Image.new("L", (32, 32), 200).save(mine)
    before = mine.read_bytes()
    assert main(["preview", str(out), "-o", str(mine)]) == 2
    assert capsys.readouterr().err == f"t2vid: error: {mine} exists and was not written by t2vid; pick another -o or remove it\n"
    assert mine.read_bytes() == before


def test_sheets_replace_their_own_and_no_other(out, tmp_path, capsys):
    sheet = tmp_path / "sheet.png"
    assert main(["preview", str(out), "--random", "2", "-o", str(sheet)]) == 0
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(["preview", str(out), "--random", "2", "-o", str(sheet), "--thumb-width", "120"]) == 0
    second = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert second.keys() == first.keys() and all(second[n] != first[n] for n in first)
    mine, kept = sorted(first)
    (tmp_path / mine).write_bytes(b"my notes")
    capsys.readouterr()
    assert main(["preview", str(out), "--random", "2", "-o", str(sheet)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / mine} exists and was not written by t2vid" in err
    assert (tmp_path / mine).read_bytes() == b"my notes" and (tmp_path / kept).read_bytes() == second[kept]


def test_gallery_replaces_a_linked_page_not_its_target(out, tmp_path):
    gallery = tmp_path / "gallery"
    assert main(["preview", str(out), "--html", str(gallery)]) == 0
    mine = tmp_path / "mine.html"
    mine.write_text("my page")
    (gallery / "index.html").unlink()
    (gallery / "index.html").symlink_to(mine)
    assert main(["preview", str(out), "--html", str(gallery)]) == 0
    assert mine.read_text() == "my page"
    assert not (gallery / "index.html").is_symlink() and "shard-00000.html" in (gallery / "index.html").read_text()
