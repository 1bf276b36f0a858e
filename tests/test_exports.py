"""`t2vid export`: each format read back the way its trainer reads it.

Checked for every format: one media placeholder per medium, every path
resolves from where the trainer resolves it, frame order is the sample's,
multi-turn samples keep their turns, JSON vs JSONL shape, and byte-identical
output on a second run where the format promises it.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from t2vid.cli import main
from t2vid.exports.base import ExportError, ExportOptions, KeyMaker
from t2vid.exports.registry import export, load_format

from conftest import license_text, run_synth, shard_lines, synth_records, tree_bytes, write_jsonl

EXTRA_TURNS = [{"instruction": "And who may redistribute it?", "answer": "Anyone who meets the conditions."}]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """Four samples: two over one context (shared frames), an odd frame count (3), and one with further turns."""
    folder = tmp_path_factory.mktemp("exports")
    records = [
        {"context": license_text("Apache-2.0", 300), "question": "What is licensed?", "answer": "The Work."},
        {"context": license_text("Apache-2.0", 300), "question": "Who may sue?", "answer": "Nobody."},
        {"context": license_text("BSD"), "question": "How many conditions?", "answer": "Three."},
        {"context": "活字印刷术是中国古代的重要发明。" * 8, "question": "谁发明了活字？", "answer": "毕昇。"},
    ]
    output = synth_records(folder, records, words_per_frame=40)
    shard = output / "shards" / "shard-00000.jsonl"
    lines = [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
    lines[0]["turns"] = EXTRA_TURNS  # presets with turns are not needed to test that exports keep them
    shard.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return output


@pytest.fixture(scope="module")
def samples(out):
    return shard_lines(out)


def frames_of(out: Path, sample: dict) -> list[str]:
    return [os.path.abspath(out / path) for path in sample["images"]]


def resolved(root: Path, path: str) -> str:
    return os.path.normpath(os.path.join(root, path))


def read_jsonl(path: Path) -> list[dict]:
    assert path.read_text(encoding="utf-8").lstrip()[0] == "{", "JSONL expected"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_array(path: Path) -> list[dict]:
    assert path.read_text(encoding="utf-8").lstrip()[0] == "[", "one JSON array expected"
    return json.loads(path.read_text(encoding="utf-8"))


def expected_turns(sample: dict) -> int:
    return 1 + len(sample.get("turns") or [])


def load_json_rows(path: Path, cache: Path):
    """How LLaMA-Factory and ms-swift load a file: HF datasets' JSON builder, which needs one type per column."""
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


def test_llamafactory_one_video_per_row_resolving_against_dataset_dir(out, samples, tmp_path):
    dest = tmp_path / "lf"
    dest.mkdir()
    (dest / "dataset_info.json").write_text(json.dumps({"other": {"file_name": "other.json"}}))
    report = export(out, "llamafactory", ExportOptions(dest), progress=False)
    assert report.files == ["train.jsonl", "dataset_info.json"] and report.samples == len(samples)
    rows = read_jsonl(dest / "train.jsonl")
    assert len(rows) == len(samples)
    for row, sample in zip(rows, samples):
        user_text = "".join(m["content"] for m in row["messages"] if m["role"] == "user")
        assert user_text.count("<video>") == len(row["videos"]) == 1 and "<image>" not in user_text
        assert [resolved(dest, p) for p in row["videos"][0]] == frames_of(out, sample)  # media_dir = dataset_dir = DEST
        assert not any(p.startswith("/") for p in row["videos"][0])
        assert len(row["messages"]) == 2 * expected_turns(sample)
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"] * expected_turns(sample)
    assert rows[0]["messages"][2:] == [{"role": "user", "content": EXTRA_TURNS[0]["instruction"]}, {"role": "assistant", "content": EXTRA_TURNS[0]["answer"]}]
    info = json.loads((dest / "dataset_info.json").read_text())
    assert info["other"] == {"file_name": "other.json"}  # an existing dataset_info.json keeps its entries
    assert info["t2vid"] == {
        "file_name": "train.jsonl",
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "videos": "videos"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    }
    loaded = load_json_rows(dest / "train.jsonl", tmp_path / "cache")
    assert [len(v[0]) for v in loaded["videos"]] == [s["num_frames"] for s in samples]


def test_llamafactory_as_images(out, samples, tmp_path):
    dest = tmp_path / "lf-images"
    export(out, "llamafactory", ExportOptions(dest, as_images=True, name="t2vid_images"), progress=False)
    rows = read_jsonl(dest / "train.jsonl")
    for row, sample in zip(rows, samples):
        assert row["messages"][0]["content"].count("<image>") == len(row["images"]) == sample["num_frames"]
        assert [resolved(dest, p) for p in row["images"]] == frames_of(out, sample)
        assert "videos" not in row
    assert json.loads((dest / "dataset_info.json").read_text())["t2vid_images"]["columns"] == {"messages": "messages", "images": "images"}


def test_swift_paths_absolute_by_default(out, samples, tmp_path):
    dest = tmp_path / "swift"
    report = export(out, "swift", ExportOptions(dest), progress=False)
    assert report.files == ["train.jsonl"]
    rows = read_jsonl(dest / "train.jsonl")
    for row, sample in zip(rows, samples):
        assert row["messages"][0]["content"].startswith("<video>") and len(row["videos"]) == 1
        assert row["videos"][0] == frames_of(out, sample)  # ms-swift opens paths from its working directory
        assert all(Path(p).is_file() for p in row["videos"][0])
    assert len(load_json_rows(dest / "train.jsonl", tmp_path / "cache")) == len(samples)


def test_paths_option_overrides_the_format_default(out, samples, tmp_path):
    dest = tmp_path / "swift-relative"
    export(out, "swift", ExportOptions(dest, paths="relative"), progress=False)
    row = read_jsonl(dest / "train.jsonl")[0]
    assert row["videos"][0][0].startswith("../") and [resolved(dest, p) for p in row["videos"][0]] == frames_of(out, samples[0])


def test_minicpmv_one_json_array_with_numbered_placeholders(out, samples, tmp_path):
    dest = tmp_path / "minicpmv"
    export(out, "minicpmv", ExportOptions(dest), progress=False)
    rows = read_array(dest / "train.json")
    for row, sample in zip(rows, samples):
        names = [f"<image_{i:02d}>" for i in range(sample["num_frames"])]
        assert list(row["image"]) == names
        assert list(row["image"].values()) == frames_of(out, sample)
        first = row["conversations"][0]
        assert first["role"] == "user" and first["content"] == "".join(n + "\n" for n in names) + sample["instruction"]
        assert [m["role"] for m in row["conversations"]] == ["user", "assistant"] * expected_turns(sample)
        assert row["id"] == sample["id"]


def test_internvl_rows_and_meta(out, samples, tmp_path):
    dest = tmp_path / "internvl"
    report = export(out, "internvl", ExportOptions(dest, name="synthetic_video"), progress=False)
    assert report.files == ["train.jsonl", "meta.json"]
    meta = json.loads((dest / "meta.json").read_text())["synthetic_video"]
    assert meta == {"root": str(dest.resolve()), "annotation": str((dest / "train.jsonl").resolve()), "data_augment": False, "repeat_time": 1, "length": len(samples)}
    rows = read_jsonl(Path(meta["annotation"]))
    for row, sample in zip(rows, samples):
        human = row["conversations"][0]
        assert human["from"] == "human" and human["value"] == "<image>\n" * len(row["image"]) + sample["instruction"]
        assert [os.path.normpath(os.path.join(meta["root"], p)) for p in row["image"]] == frames_of(out, sample)
        assert [m["from"] for m in row["conversations"]] == ["human", "gpt"] * expected_turns(sample)


def test_qwen_even_frame_counts_and_sample_fps(out, samples, tmp_path):
    dest = tmp_path / "qwen"
    export(out, "qwen", ExportOptions(dest, fps=2), progress=False)
    rows = read_jsonl(dest / "train.jsonl")
    assert any(s["num_frames"] % 2 for s in samples)  # the fixture has an odd count to pad
    for row, sample in zip(rows, samples):
        video, text = row["messages"][0]["content"]
        frames = frames_of(out, sample)
        assert video["type"] == "video" and video["sample_fps"] == 2 and len(video["video"]) % 2 == 0
        assert video["video"] == frames + frames[-1:] * (len(frames) % 2)
        assert text == {"type": "text", "text": sample["instruction"]}
        assert len(row["messages"]) == 2 * expected_turns(sample)
    assert len(load_json_rows(dest / "train.jsonl", tmp_path / "cache")) == len(samples)


def decode(path: Path):
    import av

    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]


def assert_video_shows(path: Path, frames: list[str]):
    """N decoded frames of the right size, each closest to its own source frame: order kept."""
    import numpy as np
    from PIL import Image

    decoded = decode(path)
    sources = [np.asarray(Image.open(f).convert("L"), dtype=np.int16) for f in frames]
    assert len(decoded) == len(sources)
    assert decoded[0].shape == sources[0].shape
    for index, picture in enumerate(decoded):
        distances = [np.abs(picture.astype(np.int16) - source).mean() for source in sources]
        assert distances[index] == min(distances) and distances[index] < 8


def test_llava_rows_with_their_mp4s(out, samples, tmp_path):
    dest = tmp_path / "llava"
    export(out, "llava", ExportOptions(dest), progress=False)
    rows = read_array(dest / "train.json")
    for row, sample in zip(rows, samples):
        assert row["conversations"][0] == {"from": "human", "value": "<image>\n" + sample["instruction"]}
        assert (dest / row["video"]).is_file()  # --video_folder DEST
        assert len(row["conversations"]) == 2 * expected_turns(sample)
    assert rows[0]["video"] == rows[1]["video"]  # one context, one video
    assert len(list((dest / "videos").glob("*.mp4"))) == len({tuple(s["images"]) for s in samples})
    assert_video_shows(dest / rows[2]["video"], frames_of(out, samples[2]))


def test_mp4_index_decodes_and_is_reproducible(out, samples, tmp_path):
    """Same bytes on a second run, whatever the number of encoding processes."""
    first, second = tmp_path / "mp4-a", tmp_path / "mp4-b"
    export(out, "mp4", ExportOptions(first), progress=False)
    export(out, "mp4", ExportOptions(second, fps=1.0, workers=2), progress=False)
    index = read_jsonl(first / "index.jsonl")
    assert [r["id"] for r in index] == [s["id"] for s in samples]
    for row, sample in zip(index, samples):
        assert row["fps"] == 1 and row["num_frames"] == sample["num_frames"] and row["turns"] == (sample.get("turns") or [])
        assert_video_shows(first / row["video"], frames_of(out, sample))
    assert tree_bytes(first) == tree_bytes(second)


def test_mp4_pads_odd_frame_sizes(tmp_path):
    odd = tmp_path / "odd"
    run_synth(odd, write_jsonl(tmp_path / "odd.jsonl", [{"context": license_text("BSD", 60), "question": "Q?", "answer": "A."}]), size="161x121", words_per_frame=40)
    dest = tmp_path / "odd-mp4"
    export(odd, "mp4", ExportOptions(dest, fps=0.5), progress=False)
    row = read_jsonl(dest / "index.jsonl")[0]
    decoded = decode(dest / row["video"])
    assert len(decoded) == row["num_frames"] and decoded[0].shape == (122, 162)
    assert row["fps"] == 0.5


def test_webdataset_members_and_reproducible_bytes(out, samples, tmp_path):
    first, second = tmp_path / "wds-a", tmp_path / "wds-b"
    export(out, "webdataset", ExportOptions(first, shard_size=3), progress=False)
    export(out, "webdataset", ExportOptions(second, shard_size=3), progress=False)
    assert tree_bytes(first) == tree_bytes(second)
    shards = sorted(first.glob("shard-*.tar"))
    assert [s.name for s in shards] == ["shard-00000.tar", "shard-00001.tar"]
    members = []
    for shard in shards:
        with tarfile.open(shard) as archive:
            for info in archive.getmembers():
                assert info.mtime == 0 and info.uid == info.gid == 0 and info.uname == info.gname == ""
                members.append((info.name, archive.extractfile(info).read()))
    names = [name for name, _ in members]
    expected = []
    for sample in samples:
        key = sample["id"]
        assert "." not in key
        expected += [f"{key}.json"] + [f"{key}.f{i:03d}.png" for i in range(sample["num_frames"])]
    assert names == expected
    by_name = dict(members)
    for sample in samples:
        meta = json.loads(by_name[f"{sample['id']}.json"])
        assert meta["instruction"] == sample["instruction"] and meta["texts"] == sample["texts"] and meta["turns"] == (sample.get("turns") or [])
        assert [by_name[f"{sample['id']}.f{i:03d}.png"] for i in range(sample["num_frames"])] == [Path(f).read_bytes() for f in frames_of(out, sample)]


def test_keys_lose_dots_and_stay_unique():
    keys = KeyMaker()
    assert [keys("a.b/c"), keys("a_b_c"), keys("a.b.c"), keys("")] == ["a_b_c", "a_b_c_2", "a_b_c_3", "sample"]


def test_hf_parquet_and_load_from_disk(out, samples, tmp_path):
    import datasets

    dest = tmp_path / "hf"
    export(out, "hf", ExportOptions(dest, shard_size=3), progress=False)
    parquet = sorted(str(p) for p in (dest / "data").glob("*.parquet"))
    assert [Path(p).name for p in parquet] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    from_parquet = datasets.load_dataset("parquet", data_files=parquet, split="train", cache_dir=str(tmp_path / "cache"))
    from_disk = datasets.load_from_disk(str(dest / "arrow"))
    for dataset in (from_parquet, from_disk):
        assert isinstance(dataset.features["frames"].feature, datasets.Image)
        assert dataset["id"] == [s["id"] for s in samples]
        assert dataset["turns"] == [s.get("turns") or [] for s in samples]
        first = dataset[2]["frames"]
        assert len(first) == samples[2]["num_frames"] and first[0].size == (224, 224)
        raw = dataset.cast_column("frames", datasets.Sequence(datasets.Image(decode=False)))
        for row, sample in zip(raw, samples):
            assert [frame["bytes"] for frame in row["frames"]] == [Path(f).read_bytes() for f in frames_of(out, sample)]
    again = tmp_path / "hf-again"
    export(out, "hf", ExportOptions(again, shard_size=3), progress=False)
    assert tree_bytes(dest / "data") == tree_bytes(again / "data")


@pytest.mark.parametrize("name", ["llamafactory", "swift", "minicpmv", "internvl", "qwen", "llava"])
def test_rows_read_back_to_the_same_frames_and_turns(out, samples, tmp_path, name):
    """What `mix` relies on to take real data given in the target format."""
    fmt = load_format(name)
    dest = tmp_path / name
    export(out, name, ExportOptions(dest, paths="absolute"), progress=False)
    rows = read_array(dest / fmt.data_file) if fmt.data_file.endswith(".json") else read_jsonl(dest / fmt.data_file)
    for row, sample in zip(rows, samples):
        item = fmt.parse(row)
        turns = [(sample["instruction"], sample["answer"])] + [(t["instruction"], t["answer"]) for t in sample.get("turns") or ()]
        assert list(item.turns) == turns
        if name == "llava":
            assert Path(item.media.path).is_file()
        else:
            assert list(item.media.paths)[: sample["num_frames"]] == frames_of(out, sample)


def test_cli_export_and_its_errors(out, tmp_path, capsys):
    assert main(["export", str(out), "--to", "internvl", "-o", str(tmp_path / "cli"), "-q"]) == 0
    assert (tmp_path / "cli" / "train.jsonl").is_file() and capsys.readouterr().err == ""
    assert main(["export", str(out), "--to", "internvl", "--as-images", "-o", str(tmp_path / "x")]) == 2
    assert main(["export", str(tmp_path), "--to", "qwen", "-o", str(tmp_path / "y")]) == 2
    assert main(["export", str(out), "--to", "qwen", "--fps", "0", "-o", str(tmp_path / "z")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("t2vid") for line in errors)
    assert "--as-images" in errors[0] and "not a t2vid output" in errors[1] and "--fps" in errors[2]


def test_missing_frame_is_an_error_and_leaves_no_partial_file(out, samples, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / samples[2]["images"][1]).unlink()
    with pytest.raises(ExportError, match="missing"):
        export(broken, "swift", ExportOptions(tmp_path / "lib"), progress=False)
    assert main(["export", str(broken), "--to", "swift", "-o", str(tmp_path / "dest")]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and samples[2]["images"][1] in error
    assert list((tmp_path / "dest").iterdir()) == []


@pytest.mark.slow
def test_qwen_vl_utils_reads_the_frame_lists(out, samples, tmp_path):
    vision = pytest.importorskip("qwen_vl_utils", reason="qwen-vl-utils (needs torch) is not installed")
    dest = tmp_path / "qwen-real"
    export(out, "qwen", ExportOptions(dest), progress=False)
    for row, sample in zip(read_jsonl(dest / "train.jsonl"), samples):
        _, videos = vision.process_vision_info(row["messages"])
        assert videos[0].shape[0] == sample["num_frames"] + sample["num_frames"] % 2


@pytest.mark.slow
def test_webdataset_package_reads_the_shards(out, samples, tmp_path):
    wds = pytest.importorskip("webdataset", reason="webdataset is not installed")
    dest = tmp_path / "wds"
    export(out, "webdataset", ExportOptions(dest, shard_size=3), progress=False)
    urls = [str(p) for p in sorted(dest.glob("shard-*.tar"))]
    read = list(wds.WebDataset(urls, shardshuffle=False).decode("pil"))
    assert [r["__key__"] for r in read] == [s["id"] for s in samples]
    for record, sample in zip(read, samples):
        frames = sorted(k for k in record if k.startswith("f") and k.endswith(".png"))
        assert len(frames) == sample["num_frames"] and record[frames[0]].size == (224, 224)
        assert record["json"]["answer"] == sample["answer"]


def rewrite_first_record(out: Path, change) -> Path:
    """Edit the first sample line of OUT's first shard, as a hand edit or another tool would."""
    shard = out / "shards" / "shard-00000.jsonl"
    lines = shard.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    change(record)
    lines[0] = json.dumps(record, ensure_ascii=False)
    shard.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return shard


@pytest.mark.parametrize("hostile", ["../../../../etc/passwd", "frames/../../../../etc/passwd", "/etc/passwd"])
@pytest.mark.parametrize("name", ["webdataset", "swift"])
def test_an_image_path_leaving_out_is_refused(out, tmp_path, capsys, hostile, name):
    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    shard = rewrite_first_record(edited, lambda record: record["images"].__setitem__(0, hostile))
    dest = tmp_path / "dest"
    assert main(["export", str(edited), "--to", name, "-o", str(dest), "-q"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{shard}:1: image path {hostile!r} is not under frames/" in error
    assert list(dest.iterdir()) == []  # nothing written, so nothing copied from outside OUT


def test_synthetic_item_applies_the_path_rule_itself(out, samples):
    from t2vid.errors import UsageError
    from t2vid.exports.items import synthetic_item

    with pytest.raises(UsageError, match="not under frames/"):
        synthetic_item({**samples[0], "images": ["frames/../../secret.png"]}, out)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda shard: shard.write_text(shard.read_text().replace("\n", "\n{broken\n", 1)), ":2: not valid JSON ("),
        (lambda shard: rewrite_first_record(shard.parent.parent, lambda record: record.pop("images")), ":1: missing field 'images'"),
        (lambda shard: rewrite_first_record(shard.parent.parent, lambda record: record.__setitem__("turns", ["not a turn"])), ":1: turns[0] needs string instruction and answer"),
    ],
)
def test_a_broken_record_is_one_line_naming_its_location(out, tmp_path, capsys, breakage, message):
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    shard = broken / "shards" / "shard-00000.jsonl"
    breakage(shard)
    assert main(["export", str(broken), "--to", "llamafactory", "-o", str(tmp_path / "dest")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{shard}{message}" in error and f"t2vid validate {broken}" in error


def test_an_uncreatable_destination_is_one_line_with_exit_2(out, tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory is wanted")
    assert main(["export", str(out), "--to", "webdataset", "-o", str(blocker / "x")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"t2vid: error: cannot create directory {blocker / 'x'}")


def test_a_failed_export_leaves_the_previous_webdataset_shards(out, samples, tmp_path):
    dest = tmp_path / "wds"
    export(out, "webdataset", ExportOptions(dest, shard_size=1), progress=False)
    assert len(list(dest.glob("shard-*.tar"))) == len(samples)
    before = tree_bytes(dest)
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / samples[3]["images"][0]).unlink()  # the last sample: earlier shards are already written when it fails
    with pytest.raises(ExportError, match="missing"):
        export(broken, "webdataset", ExportOptions(dest, shard_size=3), progress=False)
    assert tree_bytes(dest) == before and not any(p.name.startswith(".") for p in dest.iterdir())
    export(out, "webdataset", ExportOptions(dest, shard_size=3), progress=False)
    assert sorted(p.name for p in dest.iterdir()) == ["shard-00000.tar", "shard-00001.tar"]  # stale shards go only now


def test_a_failed_export_leaves_the_previous_hf_dataset(out, samples, tmp_path):
    import datasets

    dest = tmp_path / "hf"
    export(out, "hf", ExportOptions(dest, shard_size=3), progress=False)
    before = tree_bytes(dest)
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / samples[3]["images"][0]).unlink()
    with pytest.raises(ExportError, match="missing"):
        export(broken, "hf", ExportOptions(dest, shard_size=1), progress=False)
    assert tree_bytes(dest) == before and sorted(p.name for p in dest.iterdir()) == ["arrow", "data"]
    export(out, "hf", ExportOptions(dest, shard_size=4), progress=False)
    assert [p.name for p in (dest / "data").iterdir()] == ["train-00000-of-00001.parquet"]
    assert datasets.load_from_disk(str(dest / "arrow"))["id"] == [s["id"] for s in samples]
