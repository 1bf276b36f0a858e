"""`t2vid mix`: counts, ratio, seeded shuffling, real-data shapes, missing videos and the report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from t2vid.cli import main
from t2vid.exports.base import ExportOptions, Placer, VideoFile
from t2vid.exports.registry import load_format
from t2vid.exports.mix import mix

from conftest import license_text, synth_records, write_jsonl

REAL_ROWS = 10


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mix")
    records = [
        {"context": license_text("Apache-2.0", 200), "question": "What is licensed?", "answer": "The Work."},
        {"context": license_text("BSD", 120), "question": "How many conditions?", "answer": "Three."},
        {"context": license_text("MPL-2.0", 150), "question": "What is a Contributor?", "answer": "A person."},
        {"context": license_text("GPL-3", 100), "question": "Is it free?", "answer": "As in freedom."},
    ]
    output = synth_records(folder, records, words_per_frame=60)
    return output


@pytest.fixture
def videos(tmp_path):
    """LLaVA-Video-shaped rows over clips in a root folder; the last two clips do not exist."""
    root = tmp_path / "clips"
    root.mkdir()
    rows = []
    for number in range(REAL_ROWS):
        if number < REAL_ROWS - 2:
            (root / f"clip{number}.mp4").write_bytes(b"not decoded by mix")
        rows.append(
            {
                "id": f"real{number}",
                "video": f"clip{number}.mp4",
                "conversations": [
                    {"from": "human", "value": f"<image>\nWhat happens in clip {number}?"},
                    {"from": "gpt", "value": f"Event {number}."},
                    {"from": "human", "value": "And then?"},
                    {"from": "gpt", "value": "It ends."},
                ],
            }
        )
    path = tmp_path / "real.json"
    path.write_text(json.dumps(rows))
    return path, root


def run_mix(synthetic, video_file, dest, to="llava", seed=0, **kwargs):
    return mix(str(synthetic), (str(video_file),), to, ExportOptions(Path(dest)), seed, progress=False, **kwargs)


def rows_of(dest: Path, to: str) -> list[dict]:
    path = dest / load_format(to).data_file
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines()]


def test_counts_report_and_seeded_order(synthetic, videos, tmp_path):
    video_file, root = videos
    report, missing = run_mix(synthetic, video_file, tmp_path / "a", counts="6:3", video_root=str(root))
    rows = rows_of(tmp_path / "a", "llava")
    assert len(rows) == report.rows == 9
    real = [r for r in rows if r["id"].startswith("real")]
    assert len(real) == 6 and len(rows) - len(real) == 3
    assert all(r["video"] == str(root / f"{r['id'].replace('real', 'clip')}.mp4") for r in real)  # joined to --video-root
    assert all(r["conversations"][0]["value"].startswith("<image>\n") and len(r["conversations"]) == 4 for r in real)
    saved = json.loads((tmp_path / "a" / "mix_report.json").read_text())
    assert saved["video"] == {"files": [str(video_file)], "root": str(root), "available": REAL_ROWS, "used": 6, "missing_media": len(missing)}
    assert saved["synthetic"] == {"output": str(synthetic), "available": 4, "used": 3, "media": "mp4"}
    assert saved["seed"] == 0 and saved["files"] == ["train.json", "videos", "mix_report.json"]  # every file and folder written

    run_mix(synthetic, video_file, tmp_path / "b", counts="6:3", video_root=str(root))
    assert (tmp_path / "a" / "train.json").read_bytes() == (tmp_path / "b" / "train.json").read_bytes()
    run_mix(synthetic, video_file, tmp_path / "c", counts="6:3", video_root=str(root), seed=1)
    assert rows_of(tmp_path / "c", "llava") != rows


def test_ratio_takes_as_much_as_the_smaller_source_allows(synthetic, videos, tmp_path):
    video_file, root = videos
    report, _ = run_mix(synthetic, video_file, tmp_path / "r", ratio="2:1", video_root=str(root))
    assert (report.video["used"], report.synthetic["used"]) == (8, 4)
    report, _ = run_mix(synthetic, video_file, tmp_path / "r0", ratio="1:0", video_root=str(root))
    assert (report.video["used"], report.synthetic["used"]) == (REAL_ROWS, 0)


def test_missing_videos_are_kept_warned_and_counted(synthetic, videos, tmp_path, capsys):
    video_file, root = videos
    dest = tmp_path / "m"
    code = main(["mix", "--synthetic", str(synthetic), "--video", str(video_file), "--counts", f"{REAL_ROWS}:0", "--to", "llava", "-o", str(dest), "--video-root", str(root)])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("t2vid mix: warning: 2 real media path(s) do not exist")
    assert err[0].endswith(f"see {dest / 'mix_report.json'}")
    assert len(rows_of(dest, "llava")) == REAL_ROWS
    assert json.loads((dest / "mix_report.json").read_text())["video"]["missing_media"] == 2


def test_llamafactory_mix_with_video_files_encodes_synthetic_to_mp4(synthetic, videos, tmp_path):
    import datasets

    video_file, root = videos
    dest = tmp_path / "lf"
    report, _ = run_mix(synthetic, video_file, dest, to="llamafactory", counts="4:4", video_root=str(root))
    assert report.synthetic["media"] == "mp4"
    assert report.files == ["train.jsonl", "videos", "dataset_info.json", "mix_report.json"] and "videos" in report.summary()
    rows = rows_of(dest, "llamafactory")
    assert all(isinstance(r["videos"][0], str) and r["messages"][0]["content"].count("<video>") == 1 for r in rows)
    synthetic_videos = [r["videos"][0] for r in rows if r["videos"][0].startswith("videos/")]
    assert len(synthetic_videos) == 4 and all((dest / v).is_file() for v in synthetic_videos)
    loaded = datasets.load_dataset("json", data_files=str(dest / "train.jsonl"), split="train", cache_dir=str(tmp_path / "cache"))
    assert len(loaded) == 8  # one type per column, as LLaMA-Factory's loader needs


def test_real_rows_in_the_target_format_are_taken(synthetic, tmp_path):
    frames = [str(tmp_path / f"f{i}.jpg") for i in range(3)]
    real = [
        {"id": "r1", "image": {"<image_00>": frames[0], "<image_01>": frames[1]}, "conversations": [{"role": "user", "content": "<image_00>\n<image_01>\nWhat is shown?"}, {"role": "assistant", "content": "Two frames."}]},
        {"id": "r2", "image": {"<image_00>": frames[2]}, "conversations": [{"role": "user", "content": "<image_00>\nAnd here?"}, {"role": "assistant", "content": "One frame."}]},
    ]
    path = write_jsonl(tmp_path / "real.jsonl", real)
    dest = tmp_path / "cpm"
    run_mix(synthetic, path, dest, to="minicpmv", counts="2:2")
    rows = rows_of(dest, "minicpmv")
    by_id = {r["id"]: r for r in rows}
    assert by_id["r1"]["image"] == real[0]["image"] and by_id["r1"]["conversations"] == real[0]["conversations"]
    assert len(rows) == 4 and all(load_format("minicpmv").parse(r) for r in rows)


def test_errors_are_one_line_with_exit_2(synthetic, videos, tmp_path, capsys):
    video_file, root = videos
    base = ["mix", "--synthetic", str(synthetic), "--video", str(video_file), "-o", str(tmp_path / "e")]
    assert main(base + ["--counts", "11:1", "--to", "llava"]) == 2
    assert main(base + ["--counts", "1:5", "--to", "llava"]) == 2
    assert main(base + ["--counts", "1:1", "--ratio", "1:1", "--to", "llava"]) == 2
    assert main(base + ["--ratio", "two:one", "--to", "llava"]) == 2
    assert main(base + ["--ratio", "1:1", "--to", "hf"]) == 2
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"video": "a.mp4", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Yo"}]}, {"text": "no media"}])
    assert main(["mix", "--synthetic", str(synthetic), "--video", str(bad), "--ratio", "1:1", "--to", "qwen", "-o", str(tmp_path / "e")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 6 and all(line.startswith("t2vid") for line in errors)
    assert "only 10" in errors[0] and "only 4" in errors[1] and "exactly one" in errors[2] and "row 2" in errors[5]


def test_frames_only_targets_refuse_missing_real_videos(synthetic, videos, tmp_path, capsys):
    video_file, _ = videos
    for target in ("minicpmv", "internvl"):
        code = main(["mix", "--synthetic", str(synthetic), "--video", str(video_file), "--ratio", "1:1", "--to", target, "-o", str(tmp_path / target)])
        assert code == 2
        assert f"--to {target} turns real videos into frames, but" in capsys.readouterr().err
        assert not (tmp_path / target).exists()


def real_clip(path: Path, frames: int) -> Path:
    """An mp4 whose frame N is the grey level 20 x N, to tell which frames were kept."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 20 * index, dtype=np.uint8), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("target", ["internvl", "minicpmv"])
def test_real_videos_become_frame_folders_for_frames_only_trainers(synthetic, tmp_path, target):
    from PIL import Image

    real_clip(tmp_path / "clip.mp4", 12)
    rows = [{"id": "real0", "video": "clip.mp4", "conversations": [{"from": "human", "value": "<image>\nWhat changes?"}, {"from": "gpt", "value": "The grey."}]}]
    video_file = tmp_path / "real.json"
    video_file.write_text(json.dumps(rows))
    dest = tmp_path / "dest"
    report, _ = run_mix(synthetic, video_file, dest, to=target, counts="1:1", video_root=str(tmp_path), video_frames=5)
    real = next(item for item in map(load_format(target).parse, rows_of(dest, target)) if item.id == "real0")
    paths = [Path(p) if os.path.isabs(p) else dest / p for p in real.media.paths]
    greys = [Image.open(path).convert("L").getpixel((32, 32)) for path in paths]
    assert [round(grey / 20) for grey in greys] == [0, 3, 6, 8, 11]  # spread from the first frame to the last
    assert report.video["as_frames"] == {"videos": 1, "frames": 5, "at_most": 5}
    assert real.turns == (("What changes?", "The grey."),)


@pytest.mark.parametrize("target", ["qwen", "swift"])
def test_pairwise_readers_get_even_padded_synthetic_videos(synthetic, tmp_path, target):
    """qwen-vl-utils keeps floor(frames / 2) x 2 frames of a video file: every encoded video has an even count, at least 2."""
    import av

    from conftest import shard_lines

    real_clip(tmp_path / "clip.mp4", 4)
    video_file = tmp_path / "real.json"
    video_file.write_text(json.dumps([{"id": "r", "video": "clip.mp4", "conversations": [{"from": "human", "value": "<image>\nQ?"}, {"from": "gpt", "value": "A."}]}]))
    dest = tmp_path / "dest"
    report, _ = run_mix(synthetic, video_file, dest, to=target, counts="1:4", video_root=str(tmp_path))
    counts = {}
    for video in sorted((dest / "videos").glob("*.mp4")):
        with av.open(str(video)) as container:
            counts[video.stem] = sum(1 for _ in container.decode(video=0))
    listed = sorted(sample["num_frames"] for sample in shard_lines(synthetic))
    assert any(frames % 2 for frames in listed)
    assert sorted(counts.values()) == sorted(frames + frames % 2 for frames in listed)
    assert report.synthetic["padded_to_even"] == sum(frames % 2 for frames in listed)
    if target == "qwen":
        parts = [m["content"][0] for row in rows_of(dest, target) for m in row["messages"][:1]]
        assert all(part.get("fps") == 1 for part in parts if part["video"].startswith(str(dest)))  # sampled at the file's own rate
        assert all("fps" not in part for part in parts if part["video"].endswith("clip.mp4"))


def test_fps_that_the_trainer_would_sample_away_is_warned_about(synthetic, tmp_path, capsys):
    assert main(["export", str(synthetic), "--to", "llava", "-o", str(tmp_path / "llava"), "--fps", "2", "-q"]) == 0
    assert "train with --video_fps 2" in capsys.readouterr().err
    assert main(["export", str(synthetic), "--to", "llava", "-o", str(tmp_path / "llava1"), "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_llava_shape_converts_to_every_target_and_back(videos):
    video_file, _ = videos
    item = load_format("llava").parse(json.loads(video_file.read_text())[0])
    assert item.media == VideoFile("clip0.mp4") and item.turns == (("What happens in clip 0?", "Event 0."), ("And then?", "It ends."))
    for name in ("llamafactory", "swift", "internvl", "qwen", "llava"):
        fmt = load_format(name)
        back = fmt.parse(fmt.row(item, Placer(Path("."), "absolute"), ExportOptions(Path("."))))
        assert (back.media, back.turns) == (item.media, item.turns), name


def test_real_files_stream_and_broken_rows_are_one_line(synthetic, videos, tmp_path, capsys):
    video_file, root = videos
    rows = json.loads(video_file.read_text())
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(rows, indent=2))  # an array over many lines, read element by element
    report, _ = run_mix(synthetic, pretty, tmp_path / "p", counts=f"{REAL_ROWS}:0", video_root=str(root))
    assert report.video["available"] == REAL_ROWS
    broken = write_jsonl(tmp_path / "broken.jsonl", [rows[0], '{"video": "clip1.mp4", ', rows[2]])
    base = ["mix", "--synthetic", str(synthetic), "--ratio", "1:1", "--to", "llava", "-o", str(tmp_path / "b")]
    assert main(base + ["--video", str(broken)]) == 2
    assert main(base + ["--video", str(tmp_path / "absent.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and errors[0].startswith(f"t2vid: error: {broken}: line 2 is not valid JSON")
    assert "absent.json: no such file" in errors[1]


def test_an_uncreatable_destination_is_one_line_with_exit_2(synthetic, videos, tmp_path, capsys):
    video_file, root = videos
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    assert main(["mix", "--synthetic", str(synthetic), "--video", str(video_file), "--ratio", "1:1", "--to", "llava", "-o", str(blocker / "mix")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "cannot create directory" in error
