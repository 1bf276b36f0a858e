#!/usr/bin/env python3
"""Run t2vid's exports through the trainers' own dataset code and report what they see.

The frameworks (LLaMA-Factory, ms-swift, qwen-vl-utils with CPU PyTorch and
transformers) are far too heavy for t2vid's test environment, so they live in
virtualenvs of their own (`--install` makes them; LLaMA-Factory and ms-swift
pin different transformers versions, hence two). This script runs in the
project's Python: it synthesises the fixture samples (1 frame, 7 frames,
3 frames with three turns, 40 frames), exports them (frames as a video,
--as-images, and mixes with a real mp4), then starts itself in each virtualenv
as a probe that loads the export with the framework's own code and a tiny
Qwen2-VL tokenizer and the real processors built locally (no hub, no
weights). The table compares what each framework saw with what was listed
and with t2vid's token estimate for the profile:

    python3 scripts/check_trainers.py --install            # once: $T2VID_TRAINER_VENVS (default ~/.cache/t2vid/trainer-venvs)/trainers, .../trainers-swift
    python3 scripts/check_trainers.py --markdown table.md  # the check itself, about 5 minutes on 2 cores

It exits 1 when a row is dropped, a listed frame is not seen, or the media
tokens differ from the estimate; 2 when a virtualenv is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = Path(os.environ.get("T2VID_TRAINER_VENVS") or Path.home() / ".cache" / "t2vid" / "trainer-venvs")  # where --install puts them
LLAMAFACTORY_VENV = VENVS / "trainers"
SWIFT_VENV = VENVS / "trainers-swift"
# What --install puts in each virtualenv; PyTorch comes in as the frameworks' dependency. decord: torchvision
# 0.29 has no read_video any more, and qwen-vl-utils falls back to it for video files without decord. ms-swift does
# not need torchvision, but transformers' Qwen2-VL video processor does, built for the same torch.
REQUIREMENTS = {
    "llamafactory": ["llamafactory==0.9.5", "qwen-vl-utils==0.0.14", "av", "decord"],
    "swift": ["ms-swift==4.6.0", "qwen-vl-utils==0.0.14", "av", "decord", "torch==2.14.1", "torchvision==0.29.1"],
}
# Qwen2's special tokens at Qwen2's ids: ms-swift's Qwen2-VL template finds the media pads by these ids.
SPECIAL_TOKENS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<|vision_start|>": 151652, "<|vision_end|>": 151653, "<|image_pad|>": 151655, "<|video_pad|>": 151656}
QUESTIONS = [
    ("What is this page about?", "A license.", 12),
    ("Which license is it?", "It is quoted in full.", 135),
    (["Who may copy it?", "May it be changed?", "Is there a warranty?"], ["Anyone.", "Yes, with notice.", "No."], 55),
    ("What does the last page say?", "The end of the terms.", 790),
]
REAL_VIDEO_FRAMES = 8
COMPARISON = "mp4 export, unpadded (comparison)"  # plain mp4s through qwen-vl-utils: odd counts are expected to lose a page


# --- in the frameworks' virtualenvs -------------------------------------------------------------

def tiny_model(folder: Path) -> None:
    """A word-level tokenizer with Qwen2-VL's special tokens, the real Qwen2-VL processors, a model config: all local."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2VLConfig, Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor

    words = sorted(set((ROOT / "tests" / "fixtures" / "longalpaca-sample.json").read_text(encoding="utf-8").split()))
    vocab = {"[UNK]": 0}
    for word in ["system", "user", "assistant", *words]:
        vocab.setdefault(word, len(vocab))
    vocab.update(SPECIAL_TOKENS)
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=list(SPECIAL_TOKENS))
    template = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(), video_processor=Qwen2VLVideoProcessor(), tokenizer=tokenizer, chat_template=template)
    processor.save_pretrained(folder)
    Qwen2VLConfig(vocab_size=max(SPECIAL_TOKENS.values()) + 1, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1).save_pretrained(folder)


MEDIA_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|video_pad|>", "<|image_pad|>")


def counted(input_ids, tokenizer, grid_thw=None, images_thw=None) -> dict:
    """Tokens of a sample, its media tokens (pads and the start/end around each medium) and the frames the model gets."""
    ids = input_ids.tolist() if hasattr(input_ids, "tolist") else list(input_ids)
    ids = ids[0] if ids and isinstance(ids[0], list) else ids
    media = {tokenizer.convert_tokens_to_ids(token) for token in MEDIA_TOKENS}
    frames = sum(t * 2 for t, _, _ in grid_thw.tolist()) if grid_thw is not None else 0
    frames += len(images_thw) if images_thw is not None else 0
    return {"tokens": len(ids), "media_tokens": sum(1 for i in ids if i in media), "frames_seen": frames}


def probe_llamafactory(model: Path, data: Path) -> list[dict]:
    """LLaMA-Factory's get_dataset (template qwen2_vl) and its SFT collator, as `llamafactory-cli train` runs them."""
    from llamafactory.data import SFTDataCollatorWith4DAttentionMask, get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    args = dict(
        model_name_or_path=str(model), stage="sft", do_train=True, finetuning_type="lora", template="qwen2_vl",
        dataset_dir=str(data), dataset="t2vid", cutoff_len=32768, output_dir=tempfile.mkdtemp(), overwrite_cache=True, report_to="none",
    )
    model_args, data_args, training_args, _, _ = get_train_args(args)
    modules = load_tokenizer(model_args)
    template = get_template_and_fix_tokenizer(modules["tokenizer"], data_args)
    dataset = get_dataset(template, model_args, data_args, training_args, "sft", **modules)["train_dataset"]
    collator = SFTDataCollatorWith4DAttentionMask(template=template, pad_to_multiple_of=8, label_pad_token_id=-100, **modules)
    results = []
    for example in dataset:
        batch = collator([example])  # the collator runs the processor on the media: what the model gets
        results.append(counted(example["input_ids"], modules["tokenizer"], batch.get("video_grid_thw"), batch.get("image_grid_thw")))
    return results


def probe_swift(model: Path, data: Path) -> list[dict]:
    """ms-swift's get_processor, load_dataset and the qwen2_vl template's encode (which reads media through qwen-vl-utils)."""
    from swift import get_processor, get_template, load_dataset

    processor = get_processor(str(model), model_type="qwen2_vl", download_model=False)
    template = get_template(processor, max_length=32768, template_type="qwen2_vl")
    template.set_mode("train")
    dataset, _ = load_dataset([str(data / "train.jsonl")], split_dataset_ratio=0, num_proc=1)
    results = []
    for row in dataset:
        encoded = template.encode(row)
        results.append(counted(encoded["input_ids"], processor.tokenizer, encoded.get("video_grid_thw"), encoded.get("image_grid_thw")))
    return results


def probe_qwen(model: Path, data: Path) -> list[dict]:
    """qwen-vl-utils' process_vision_info, then the real Qwen2-VL processor on what it returns."""
    from qwen_vl_utils import process_vision_info
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(str(model))
    results = []
    for row in rows_of(data):
        messages = row.get("messages") or [{"role": "user", "content": [{"type": "video", "video": str(resolve(row["video"], data))}]}]
        try:
            _, videos = process_vision_info(messages)
        except Exception as exc:  # a 1-frame video file: "nframes should in interval [2, 1]" (then a fallback reader fails)
            results.append({"tokens": "error", "media_tokens": 0, "frames_seen": 0, "error": f"{type(exc).__name__}: {exc}"[:120]})
            continue
        encoded = processor(text=["<|vision_start|><|video_pad|><|vision_end|>"], videos=videos, return_tensors="pt", do_sample_frames=False)
        results.append(counted(encoded["input_ids"], processor.tokenizer, encoded["video_grid_thw"]))
    return results


PROBES = {"llamafactory": probe_llamafactory, "swift": probe_swift, "qwen": probe_qwen}


def framework_version(name: str) -> str:
    from importlib.metadata import version

    package = {"llamafactory": "llamafactory", "swift": "ms-swift", "qwen": "qwen-vl-utils"}[name]
    return f"{package} {version(package)}, transformers {version('transformers')}"


def run_probe(name: str, data: Path, model: Path) -> None:
    if not model.exists():
        tiny_model(model)
    try:
        rows = PROBES[name](model, data)
        print(json.dumps({"version": framework_version(name), "rows": rows}))
    except Exception as exc:  # the report says what the framework raised, whatever it is
        print(json.dumps({"version": framework_version(name), "error": f"{type(exc).__name__}: {exc}"[:300]}))


# --- in the project's Python --------------------------------------------------------------------

def install() -> None:
    for name, venv in (("llamafactory", LLAMAFACTORY_VENV), ("swift", SWIFT_VENV)):
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *REQUIREMENTS[name]], check=True)


def fixture_output(work: Path) -> Path:
    """Samples of 1, 7, 3 (three turns) and 40 frames of 448x448, cut from a fixture's licence text."""
    from t2vid.config import build_config
    from t2vid.run import synth

    words = json.loads((ROOT / "tests" / "fixtures" / "longalpaca-sample.json").read_text(encoding="utf-8"))[0]["instruction"].split()
    source = work / "samples.jsonl"
    source.write_text("".join(json.dumps({"context": " ".join(words[:count]), "question": q, "answer": a}) + "\n" for q, a, count in QUESTIONS))
    out = work / "out"
    synth(build_config({"sources": (str(source),), "output": str(out), "words_per_frame": 20, "min_context_words": 1, "workers": 1, "quiet": True}))
    return out


def real_video(work: Path) -> Path:
    """A real-video row in LLaVA's shape over an 8-frame 1 fps mp4 of plain colours."""
    import av
    import numpy as np

    clip = work / "clips" / "clip.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=1)
        stream.width = stream.height = 448
        stream.pix_fmt = "yuv420p"
        for index in range(REAL_VIDEO_FRAMES):
            frame = av.VideoFrame.from_ndarray(np.full((448, 448, 3), 30 * index, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    rows = work / "real.json"
    rows.write_text(json.dumps([{"id": "real0", "video": "clip.mp4", "conversations": [{"from": "human", "value": "<image>\nWhat colour is it?"}, {"from": "gpt", "value": "Grey."}]}]))
    return rows


def exports(out: Path, real: Path, work: Path) -> list[tuple[str, str, Path, list[str]]]:
    """(label, probe, DEST, t2vid arguments) of every export checked."""
    cases = []
    for fmt, probe in (("llamafactory", "llamafactory"), ("swift", "swift"), ("qwen", "qwen")):
        cases.append((f"{fmt}", probe, work / fmt, ["export", str(out), "--to", fmt]))
        if fmt != "qwen":
            cases.append((f"{fmt} --as-images", probe, work / f"{fmt}-images", ["export", str(out), "--to", fmt, "--as-images"]))
        mix = ["mix", "--synthetic", str(out), "--video", str(real), "--video-root", str(real.parent / "clips"), "--counts", "1:4", "--to", fmt, "--seed", "0"]
        cases.append((f"mix --to {fmt}", probe, work / f"{fmt}-mix", mix))
    cases.append((COMPARISON, "qwen", work / "mp4", ["export", str(out), "--to", "mp4"]))
    return cases


def rows_of(dest: Path) -> list[dict]:
    """The rows of a row export, or of the mp4 export's index."""
    path = dest / "train.jsonl" if (dest / "train.jsonl").exists() else dest / "index.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def listed_frames(row: dict, dest: Path) -> tuple[int, tuple[int, int]]:
    """Frames a row lists (an mp4's frame count for a video file) and their size."""
    from PIL import Image

    media = row.get("videos") or row.get("images") or ([row["video"]] if "video" in row else None)
    media = media or [part["video"] for m in row["messages"] for part in m["content"] if isinstance(part, dict) and "video" in part]
    first = media[0]
    if isinstance(first, list) or row.get("images"):
        paths = first if isinstance(first, list) else media
        with Image.open(resolve(paths[0], dest)) as image:
            return len(paths), image.size
    import av

    with av.open(str(resolve(first, dest))) as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.decode(stream)), (stream.width, stream.height)


def resolve(path: str, dest: Path) -> Path:
    return Path(path) if os.path.isabs(path) else dest / path


def estimates(dest: Path, profile: str, as_images: bool) -> list[dict]:
    from t2vid.budget import Budget

    budget = Budget(profile, as_images=as_images)
    rows = []
    for row in rows_of(dest):
        frames, size = listed_frames(row, dest)
        rows.append({"listed": frames, "estimate": budget.media_tokens(frames, size)})
    return rows


def run_check(work: Path, markdown: Path | None) -> int:
    from t2vid.cli import main as t2vid

    if not any((venv / "bin" / "python").exists() for venv in (LLAMAFACTORY_VENV, SWIFT_VENV)):
        print(f"check_trainers: no virtualenv at {LLAMAFACTORY_VENV} or {SWIFT_VENV}: run `python3 {Path(__file__).name} --install` first", file=sys.stderr)
        return 2
    out = fixture_output(work)
    real = real_video(work)
    profiles = {"llamafactory": "qwen2-vl-llamafactory", "swift": "qwen2-vl", "qwen": "qwen2-vl"}
    table, failures = [], 0
    for label, probe, dest, arguments in exports(out, real, work):
        if t2vid([*arguments, "-o", str(dest), "-q"]) != 0:
            raise SystemExit(f"check_trainers: t2vid {' '.join(arguments)} failed")
        venv = LLAMAFACTORY_VENV if probe != "swift" else SWIFT_VENV
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": ""}
        if not (venv / "bin" / "python").exists():
            table.append({"export": label, "framework": f"no virtualenv at {venv}", "rows": "-", "tokens per sample": "-", "frames seen/listed": "-", "all frames seen, media tokens = estimate": "NOT RUN"})
            failures += 1
            continue
        done = subprocess.run(
            [str(venv / "bin" / "python"), __file__, "--probe", probe, "--data", str(dest), "--model", str(work / f"tiny-qwen2vl-{venv.name}")],
            capture_output=True, text=True, cwd=str(dest), env=env,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        result = json.loads(lines[-1]) if lines else {"version": "?", "error": (done.stderr.strip().splitlines() or ["no output"])[-1][:300]}
        expected = estimates(dest, profiles[probe], "--as-images" in arguments)
        seen = result.get("rows", [])
        ok = "error" not in result and len(seen) == len(expected) and all(
            "error" not in s and s["frames_seen"] >= e["listed"] and s["media_tokens"] == e["estimate"] for s, e in zip(seen, expected)
        )
        if label == COMPARISON:  # what the padding prevents: not a failure of the check
            verdict = "pages lost, as expected" if "error" in result or not ok else "no page lost?"
        else:
            verdict = "yes" if ok else "NO"
            failures += not ok
        table.append({
            "export": label,
            "framework": result["version"],
            "rows": f"{sum('error' not in s for s in seen)}/{len(expected)}",
            "tokens per sample": " ".join(str(s["tokens"]) for s in seen) or result.get("error", ""),
            "frames seen/listed": " ".join(f"{s['frames_seen']}/{e['listed']}" for s, e in zip(seen, expected)),
            "all frames seen, media tokens = estimate": verdict,
        })
    text = render(table)
    print(text)
    if markdown:
        markdown.write_text(text + "\n", encoding="utf-8")
    return 1 if failures else 0


def render(table: list[dict]) -> str:
    header = list(table[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(row[key]) for key in header) + " |" for row in table]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="Create or update the two virtualenvs, then stop.")
    parser.add_argument("--work", type=Path, default=None, help="Folder for the samples and exports (default: a temporary one).")
    parser.add_argument("--markdown", type=Path, default=None, help="Also write the table to this file.")
    parser.add_argument("--probe", choices=list(PROBES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        run_probe(args.probe, args.data, args.model)
        return 0
    if args.install:
        install()
        return 0
    sys.path.insert(0, str(ROOT))
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
        return run_check(args.work.resolve(), args.markdown)
    with tempfile.TemporaryDirectory(prefix="t2vid-trainers-") as work:
        return run_check(Path(work), args.markdown)


if __name__ == "__main__":
    sys.exit(main())
