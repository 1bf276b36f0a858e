#!/usr/bin/env python3
"""Benchmark `t2vid synth` against the paper's rendering recipe, per corpus.

The reference below is the straightforward Pillow recipe of the T2Vid paper
(115 tokens per frame, wrap by measuring every word, RGB PNG at the default
level), written here so both sides render the same words on the same machine.
Every run is a child process whose process tree is sampled in /proc: peak RSS
of the largest process, and peak PSS summed over all of them (shared pages
counted once).

Corpora (--corpus-set), all from Debian packages so that runs can be compared:
prose (license texts), path-heavy (licenses and copyright files), code (the
Python standard library), chinese (fortunes-zh), japanese (debian-faq-ja),
korean (debian-faq-ko) and mixed Chinese/English (debian-faq-zh-cn). The CJK
corpora are cut by characters (--chars) and counted in t2vid's words (a CJK
character is one); the recipe splits lines at spaces only and has no CJK
font, so it gets no row there. Setup for the CJK corpora:

    apt-get install -y fortunes-zh debian-faq-ja debian-faq-ko debian-faq-zh-cn

    python scripts/bench.py                 # prose: 200 contexts x 5,500 words
    python scripts/bench.py --quick --stages --memory
    python scripts/bench.py --corpus-set chinese --stages --work-dir ~/bench   # 1,000 contexts x 3,000 characters
    python scripts/bench.py --quick --corpus-set all
    python scripts/bench.py --huge          # one 10M-character context: peak RSS of its worker
"""

from __future__ import annotations

import argparse
import glob
import io
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAPER_WORDS_PER_FRAME = 115
PAPER_SIZE = 448
PAPER_FONT_SIZE = 20
PAPER_MARGIN = 10
TOKEN = re.compile(r"\w+(?:['’.-]\w+)*|[^\w\s]")  # word-tokeniser-like: words, and punctuation as tokens


@dataclass(frozen=True)
class Measurement:
    name: str
    frames: int
    seconds: float
    words: int
    bytes: int  # all frame files
    peak_rss: int  # bytes, largest single process
    tree_pss: int  # bytes, all processes together (proportional set size, sampled)
    cpu_seconds: float  # user + system time of all processes (sampled): robust where wall time is not, on a shared machine

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds

    @property
    def words_per_s(self) -> float:
        return self.words / self.seconds

    @property
    def words_per_cpu_s(self) -> float:
        return self.words / max(self.cpu_seconds, 1e-9)


# --- corpus -------------------------------------------------------------------------------------


def machine_texts(with_copyright_files: bool) -> list[Path]:
    """License texts every Debian system has (prose), optionally with every package's copyright file
    (mostly file lists and paths: path-heavy text where many tokens are wider than a line), in a fixed order."""
    found = glob.glob("/usr/share/common-licenses/*")
    if with_copyright_files:
        found += glob.glob("/usr/share/doc/**/copyright", recursive=True)
    unique = {os.path.realpath(p) for p in found if os.path.isfile(p)}
    return [Path(p) for p in sorted(unique)]


CORPUS_FILES = {  # corpus set -> (glob patterns, Debian package); the text is cut by characters when CJK
    "code": (("/usr/lib/python3.*/*.py",), "libpython3-stdlib"),
    "chinese": (("/usr/share/games/fortunes/chinese", "/usr/share/games/fortunes/tang300", "/usr/share/games/fortunes/song100"), "fortunes-zh"),
    "japanese": (("/usr/share/doc/debian/FAQ/debian-faq.ja.txt.gz",), "debian-faq-ja"),
    "korean": (("/usr/share/doc/debian/FAQ/debian-faq.ko.txt.gz",), "debian-faq-ko"),
    "mixed": (("/usr/share/doc/debian/FAQ/debian-faq.zh-cn.txt.gz",), "debian-faq-zh-cn"),
}
CJK_SETS = ("chinese", "japanese", "korean", "mixed")
DEFAULT_CONTEXTS = 200
# A CJK context of 3,000 characters makes ~9 frames against prose's ~50: 200 of them ran for 3-5 s, of which
# starting the driver and the workers was a tenth to a quarter, so two workers measured start-up, not throughput.
CJK_CONTEXTS = 1000
CORPUS_SETS = ("prose", "path-heavy", "code", *CJK_SETS)


def corpus_text(name: str) -> str:
    """The packaged text of a corpus set, files in a fixed order."""
    import gzip

    patterns, package = CORPUS_FILES[name]
    files = sorted({os.path.realpath(p) for pattern in patterns for p in glob.glob(pattern) if os.path.isfile(p)})
    if not files:
        raise SystemExit(f"bench: corpus {name!r} needs the Debian package {package} (apt-get install -y {package})")
    return "\n".join((gzip.open if f.endswith(".gz") else open)(f, "rt", encoding="utf-8", errors="replace").read() for f in files)


def write_char_corpus(path: Path, text: str, contexts: int, chars: int) -> int:
    """Consecutive `chars`-character contexts of `text` (wrapping), each labelled; returns t2vid words written."""
    from t2vid.layout import split_units

    written, cursor = 0, 0
    text = " ".join(text.split())
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(contexts):
            chunk = "".join(text[(cursor + k) % len(text)] for k in range(chars))
            cursor = (cursor + chars) % len(text)
            context = f"{number}. {chunk}"
            written += len(split_units(context))
            handle.write(json.dumps({"context": context, "question": "What does the text say?", "answer": "It is a manual."}, ensure_ascii=False) + "\n")
    return written


def corpus_words(corpus: Path | None, with_copyright_files: bool = False) -> list[str]:
    files = [corpus] if corpus else machine_texts(with_copyright_files)
    words: list[str] = []
    for path in files:
        words.extend(path.read_text(encoding="utf-8", errors="replace").split())
    if not words:
        raise SystemExit(f"bench: no words in {corpus or 'the machine texts'}")
    return words


def write_corpus(path: Path, words: list[str], contexts: int, words_per_context: int, label: bool = False) -> int:
    """Cut the word stream into consecutive contexts (wrapping around at the end); returns words written.

    `label` starts each context with its number, so contexts stay distinct even
    when the stream wraps (otherwise synth would reuse identical frames).
    """
    written, cursor = 0, 0
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(contexts):
            chunk = [words[(cursor + k) % len(words)] for k in range(words_per_context)]
            cursor = (cursor + words_per_context) % len(words)
            context = (f"Record {number}. " if label else "") + " ".join(chunk)
            written += len(context.split())
            handle.write(json.dumps({"context": context, "question": "What does the text say?", "answer": "It is a license."}) + "\n")
    return written


# --- the paper's recipe -------------------------------------------------------------------------


def paper_frames(context: str) -> list[str]:
    tokens = TOKEN.findall(context)
    return [" ".join(tokens[i : i + PAPER_WORDS_PER_FRAME]) for i in range(0, len(tokens), PAPER_WORDS_PER_FRAME)]


def paper_render(text: str, font_path: str) -> bytes:
    """One frame as the recipe draws it: wrap by per-word bboxes, per-line heights, centred block, RGB PNG."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path, PAPER_FONT_SIZE)  # reloaded for every frame, as in the recipe
    line_width = PAPER_SIZE - 2 * PAPER_MARGIN
    lines, current, used = [], "", 0
    for word in text.split(" "):
        x0, _, x1, _ = font.getbbox(word + " ")
        if current and used + (x1 - x0) > line_width:
            lines.append(current.rstrip())
            current, used = "", 0
        current += word + " "
        used += x1 - x0
    if current:
        lines.append(current.rstrip())
    heights = [bottom - top for _, top, _, bottom in (font.getbbox(line) for line in lines)]
    image = Image.new("RGB", (PAPER_SIZE, PAPER_SIZE), "white")
    draw = ImageDraw.Draw(image)
    y = (PAPER_SIZE - sum(heights)) // 2
    for line, height in zip(lines, heights):
        draw.text((PAPER_MARGIN, y), line, font=font, fill="black")
        y += height
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def run_paper_recipe(corpus: Path, out: Path, font_path: str) -> None:
    """Child-process entry: render every context of `corpus` into out/<n>/<k>.png."""
    with open(corpus, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            folder = out / f"{number:06d}"
            folder.mkdir(parents=True)
            for k, text in enumerate(paper_frames(json.loads(line)["context"])):
                (folder / f"{k:03d}.png").write_bytes(paper_render(text, font_path))


# --- measuring child processes ------------------------------------------------------------------


def process_tree(root: int) -> dict[int, int]:
    """`root` and all its descendants, each with its parent (pool workers are grandchildren under forkserver)."""
    parents: dict[int, int] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            parents[int(stat.split("/")[2])] = int(Path(stat).read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    members, frontier = {root: parents.get(root, 0)}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in members]
        members.update((pid, parent) for pid in children)
        frontier.extend(children)
    return members


def memory_of(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes; PSS splits shared pages between their users, so it adds up across processes."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, rest = line.partition(":")
            values[key] = int(rest.split()[0]) * 1024
    except (OSError, IndexError, ValueError):
        return 0, 0
    return values.get("Rss", 0), values.get("Pss", values.get("Rss", 0))


def peak_rss_of(pid: int) -> int:
    """The process's own high-water mark of RSS (VmHWM) in bytes: its peak, however briefly it lasted; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def cpu_of(pid: int) -> float | None:
    """User + system seconds of one process so far; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compile_t2vid() -> None:
    """Byte-compile t2vid as installing it does (pip writes its .pyc files), so no timed process compiles it.

    Under PYTHONDONTWRITEBYTECODE (set on the machine of docs/performance.md)
    a .pyc older than its source is never rewritten, and every driver and
    worker of every run compiled the changed modules again: ~0.15 s each.
    """
    import compileall

    import t2vid

    compileall.compile_dir(Path(t2vid.__file__).parent, quiet=1)


def settle_disk(seconds: float = 3.0) -> None:
    """Flush what earlier runs wrote and deleted, and give the disk a moment, before a timed run starts.

    Measured on this machine's ext4 (mounted with discard): right after a
    large output was deleted, creating a 20 KB file took 840 us instead of
    75-100 us for several seconds, which one run paid and the next did not.
    """
    os.sync()
    time.sleep(seconds)


CPU_LOOP = "import statistics, time\nrounds = []\nfor _ in range({rounds}):\n    started = time.perf_counter()\n    sum(range(2_000_000))\n    rounds.append(time.perf_counter() - started)\nprint(statistics.median(rounds))"


def cpu_loop(cpus: list[int], rounds: int = 9) -> list[float]:
    """Seconds of a fixed Python loop (median of `rounds`) on each of `cpus`, all running at the same time, each pinned to its CPU."""
    children = [subprocess.Popen([sys.executable, "-c", CPU_LOOP.format(rounds=rounds)], stdout=subprocess.PIPE, text=True, preexec_fn=lambda cpu=cpu: os.sched_setaffinity(0, {cpu})) for cpu in cpus]
    return [float(child.communicate()[0]) for child in children]


def cpu_speeds() -> dict[int, float]:
    """Speed of each CPU this process may run on, alone, relative to the fastest.

    The vCPUs of a shared machine need not be equally fast (measured here:
    one ran the loop in 1.69 s, the other in 2.07-2.18 s), and a one-process
    run gets whichever it lands on, so the bench pins one-process runs to the fastest.
    """
    alone = {cpu: cpu_loop([cpu])[0] for cpu in sorted(os.sched_getaffinity(0))}
    fastest = min(alone.values())
    return {cpu: fastest / seconds for cpu, seconds in alone.items()}


def cpus_together(alone_fastest: float) -> float:
    """What all CPUs do busy at once, in units of the fastest CPU alone: the most that many workers could reach.

    Measured right before each many-worker run, as it changes from minute to
    minute on a shared machine: 1.08x to 2.07x of one CPU within an hour on the
    machine of docs/performance.md (the host's other guests, sibling threads).
    """
    return sum(alone_fastest / seconds for seconds in cpu_loop(sorted(os.sched_getaffinity(0))))


def file_creation_us(work: Path, folders: int = 60, files: int = 5) -> float:
    """Microseconds to create and write a 20 KB file in a new folder under `work`, as synth writes a sample's frames.

    The same ext4 file system of the machine in docs/performance.md created
    them in 50-60 us under /work and in 300-800 us under /tmp (whose block
    group had filled up), which is as much as drawing and encoding a frame.
    """
    probe = Path(tempfile.mkdtemp(prefix="file-probe-", dir=work))
    data = bytes(20_000)
    try:
        started = time.perf_counter()
        for folder in range(folders):
            (probe / str(folder)).mkdir()
            for number in range(files):
                (probe / str(folder) / f"f{number:03d}.png").write_bytes(data)
        return (time.perf_counter() - started) / (folders * files) * 1e6
    finally:
        shutil.rmtree(probe)


SLOW_FILE_US = 200


def settled_file_creation_us(work: Path, patience: float = 90.0) -> float:
    """`file_creation_us`, after waiting up to `patience` seconds for it to drop below SLOW_FILE_US.

    Creating files stayed slow for a minute or more after a large output was
    deleted (another bench invocation's, or anyone's): a corpus measured then
    paid ~400 us more per frame than one measured later.
    """
    deadline = time.monotonic() + patience
    creation = file_creation_us(work)
    while creation > SLOW_FILE_US and time.monotonic() < deadline:
        time.sleep(5)
        os.sync()
        creation = file_creation_us(work)
    return creation


def run_child(argv: list[str], pin: int | None = None) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS of the largest process, peak PSS of the whole tree (sampled) and CPU seconds of the tree.

    CPU time is the child's from wait4, which includes the children it
    reaped (forked pool workers), plus the last sample of every deeper process
    (a fork server's workers: they exit before the child does). With `pin` the
    child (and anything it starts) runs on that CPU only. The sampler is kept
    light, as it shares the CPUs with the run: reading every process of the
    machine and the tree's smaps every 50 ms took 13% of a CPU, and two
    workers on two CPUs lost that. Now CPU times and each process's own peak
    RSS (VmHWM) are read every 100 ms, the tree is found and PSS summed every 500 ms.
    """
    settle_disk()
    started = time.perf_counter()
    child = subprocess.Popen(argv, preexec_fn=None if pin is None else lambda: os.sched_setaffinity(0, {pin}))
    done = threading.Event()
    peaks = [0, 0]
    cpu: dict[int, float] = {}

    def sample() -> None:
        tree = {child.pid: 0}
        for tick in itertools.count():
            if done.wait(0.1):
                return
            if tick % 5 == 0:
                tree = process_tree(child.pid)
                peaks[1] = max(peaks[1], sum(memory_of(pid)[1] for pid in tree))
            peaks[0] = max([peaks[0]] + [peak_rss_of(pid) for pid in tree])
            for pid in [pid for pid, parent in tree.items() if pid != child.pid and parent != child.pid]:
                seconds = cpu_of(pid)
                if seconds is not None:  # a process that just exited keeps its last sample
                    cpu[pid] = seconds

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, rusage = os.wait4(child.pid, 0)  # not its ru_maxrss: it keeps the pre-exec size of the forked parent
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"bench: {' '.join(argv)} exited with {child.returncode}")
    return seconds, peaks[0], peaks[1], rusage.ru_utime + rusage.ru_stime + sum(cpu.values())


def files_and_bytes(root: Path) -> tuple[int, int]:
    sizes = [p.stat().st_size for p in root.rglob("*.png")]
    return len(sizes), sum(sizes)


def measure_paper(corpus: Path, words: int, work: Path, font_path: str, pin: int | None) -> Measurement:
    out = Path(tempfile.mkdtemp(prefix="paper-", dir=work))
    seconds, peak, tree, cpu = run_child([sys.executable, __file__, "--paper-recipe-child", str(corpus), str(out), font_path], pin)
    frames, size = files_and_bytes(out)
    return Measurement("paper recipe (1 core)", frames, seconds, words, size, peak, tree, cpu)


def synth_argv(corpus: Path, out: Path, workers: int) -> list[str]:
    paper = ["--size", f"{PAPER_SIZE}x{PAPER_SIZE}", "--font-size", str(PAPER_FONT_SIZE), "--words-per-frame", str(PAPER_WORDS_PER_FRAME)]
    return [sys.executable, "-m", "t2vid.cli", "synth", str(corpus), "-o", str(out), "--workers", str(workers), "-q", "--overwrite", *paper]


def measure_synth(corpus: Path, words: int, work: Path, workers: int, pin: int | None = None) -> Measurement:
    """One `t2vid synth` run as a child process, into a new OUT.

    Earlier outputs stay until the bench ends: on the machine of
    docs/performance.md, creating files right after ~12,000 frame files were
    deleted cost 540 us a file instead of 80-140 us, even after `sync` and a
    pause, and made whichever run came next up to 45% slower.
    """
    out = Path(tempfile.mkdtemp(prefix=f"synth-{workers}-", dir=work))
    seconds, peak, tree, cpu = run_child(synth_argv(corpus, out, workers), pin)
    frames = json.loads((out / "manifest.json").read_text())["frames"]
    _, size = files_and_bytes(out / "frames")
    name = f"t2vid synth --workers {workers}"
    return Measurement(name, frames, seconds, words, size, peak, tree, cpu)


def split_corpus(corpus: Path, parts: int) -> list[Path]:
    """The corpus's records dealt in turn into `parts` files, so each holds the same mix."""
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    paths = []
    for part in range(parts):
        path = corpus.with_name(f"{corpus.stem}.part{part}.jsonl")
        path.write_text("".join(lines[part::parts]), encoding="utf-8")
        paths.append(path)
    return paths


def measure_parts(parts: list[Path], work: Path) -> float:
    """Wall seconds of one `--workers 1` synth per part, all at once, each pinned to its own CPU.

    What the host lets the same work do side by side at that moment, without
    a pool: each process starts, warms its caches and contends with the
    others for the host as a pool worker does, but nothing is dispatched or
    gathered. A pool close to it is held back by the host, not by itself.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(parts) != len(cpus):
        raise ValueError(f"{len(parts)} parts for {len(cpus)} CPUs")
    settle_disk()
    started = time.perf_counter()
    children = [subprocess.Popen(synth_argv(part, Path(tempfile.mkdtemp(prefix="part-", dir=work)), 1), preexec_fn=lambda cpu=cpu: os.sched_setaffinity(0, {cpu})) for part, cpu in zip(parts, cpus)]
    try:
        for child in children:
            if child.wait():
                raise SystemExit(f"bench: a part run exited with {child.returncode}")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return time.perf_counter() - started


# --- per-stage timing ---------------------------------------------------------------------------


def stage_times(corpus: Path, work: Path) -> tuple[dict[str, float], int]:
    """Seconds spent in each stage of t2vid's pipeline, one core, in this process (the pipeline's own timings); and the frame count."""
    from t2vid.config import build_config
    from t2vid.run import synth

    config = build_config({"sources": (str(corpus),), "output": str(work / "stages"), "workers": 1, "quiet": True, "size": f"{PAPER_SIZE}x{PAPER_SIZE}", "font_size": PAPER_FONT_SIZE, "words_per_frame": PAPER_WORDS_PER_FRAME})
    summary = synth(config)  # one worker runs in this process: no pool, no pickling
    return dict(summary.stage_seconds), summary.frames


# --- memory -------------------------------------------------------------------------------------


def memory_runs(words: list[str], sizes: tuple[int, ...], words_per_record: int, work: Path) -> list[tuple[int, float, int, int, int]]:
    """(records, seconds, frames, peak RSS of the largest process, peak PSS of the tree) of synth on streamed inputs of each size."""
    rows = []
    for records in sizes:
        corpus = work / f"memory-{records}.jsonl"
        write_corpus(corpus, words, records, words_per_record, label=True)
        out = work / f"memory-{records}"
        seconds, peak, tree, _ = run_child(synth_argv(corpus, out, os.cpu_count() or 1))
        frames = json.loads((out / "manifest.json").read_text())["frames"]
        rows.append((records, seconds, frames, peak, tree))
        corpus.unlink()
    return rows


def huge_run(chars: int, work: Path) -> tuple[int, int, float, int, int, int]:
    """(characters, words, seconds, frames, peak RSS of the largest process, peak PSS of the tree) of synth on one context of `chars` characters.

    The context is the machine's license texts repeated and cut at a word end.
    One record is one chunk, so synth runs it in its own process whatever
    --workers says: the largest process is the worker.
    """
    stream = " ".join(corpus_words(None))
    context = (stream + " ") * (chars // (len(stream) + 1) + 1)
    context = context[: context.rfind(" ", 0, chars + 1)]
    corpus = work / "huge.jsonl"
    corpus.write_text(json.dumps({"context": context, "question": "What does the text say?", "answer": "It is a license."}) + "\n", encoding="utf-8")
    out = work / "huge"
    seconds, peak, tree, _ = run_child(synth_argv(corpus, out, 1))
    manifest = json.loads((out / "manifest.json").read_text())
    return len(context), manifest["words"], seconds, manifest["frames"], peak, tree


# --- report -------------------------------------------------------------------------------------


def machine() -> str:
    import PIL
    from PIL import features

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return (
        f"machine: {os.cpu_count()} cores ({cpu}); Python {platform.python_version()}; Pillow {PIL.__version__} "
        f"(FreeType {features.version('freetype2')}, raqm {'on' if features.check('raqm') else 'off'}, zlib {features.version('zlib')})"
    )


def mb(value: int) -> str:
    return f"{value / 2**20:.0f} MB"


def format_table(rows: list[Measurement]) -> str:
    header = f"| {'implementation':<38} | {'frames':>7} | {'seconds':>8} | {'frames/s':>8} | {'words/s':>8} | {'bytes/frame':>11} | {'peak RSS (largest)':>18} | {'peak PSS (all)':>14} | {'CPU s':>7} |"
    lines = [header, "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"]
    for m in rows:
        lines.append(
            f"| {m.name:<38} | {m.frames:>7} | {m.seconds:>8.1f} | {m.frames_per_s:>8.0f} | {m.words_per_s:>8.0f} | {m.bytes // max(1, m.frames):>11} | {mb(m.peak_rss):>18} | {mb(m.tree_pss):>14} | {m.cpu_seconds:>7.1f} |"
        )
    return "\n".join(lines)


def print_stages(times: dict[str, float], frames: int) -> None:
    total = sum(times.values())
    print(f"\nt2vid stages, one core, in-process ({frames} frames, {total:.1f} s, {frames / total:.0f} frames/s):")
    print(f"| {'stage':<15} | {'seconds':>8} | {'µs/frame':>9} | {'share':>6} |")
    print(f"|{'-' * 17}|{'-' * 10}|{'-' * 11}|{'-' * 8}|")
    for stage, seconds in times.items():
        print(f"| {stage:<15} | {seconds:>8.2f} | {seconds / frames * 1e6:>9.0f} | {seconds / total:>6.1%} |")


def print_memory(rows: list[tuple[int, float, int, int, int]]) -> None:
    print(f"| {'records':>8} | {'frames':>7} | {'seconds':>8} | {'peak RSS (largest)':>18} | {'peak PSS (all)':>14} |")
    print(f"|{'-' * 10}|{'-' * 9}|{'-' * 10}|{'-' * 20}|{'-' * 16}|")
    for records, seconds, frames, peak, tree in rows:
        print(f"| {records:>8} | {frames:>7} | {seconds:>8.1f} | {mb(peak):>18} | {mb(tree):>14} |")
    (small, *_, small_peak, small_tree), (large, *_, large_peak, large_tree) = rows[0], rows[-1]
    print(f"growth {small} -> {large} records: {mb(large_peak - small_peak)} (largest process), {mb(large_tree - small_tree)} (all); target: < 100 MB, and < 1 GB in all")


def print_huge(chars: int, words: int, seconds: float, frames: int, peak: int, tree: int) -> None:
    print(f"| {'characters':>10} | {'words':>9} | {'frames':>7} | {'seconds':>8} | {'peak RSS (largest)':>18} | {'peak PSS (all)':>14} |")
    print(f"|{'-' * 12}|{'-' * 11}|{'-' * 9}|{'-' * 10}|{'-' * 20}|{'-' * 16}|")
    print(f"| {chars:>10} | {words:>9} | {frames:>7} | {seconds:>8.1f} | {mb(peak):>18} | {mb(tree):>14} |")
    print("target: peak RSS of the worker < 300 MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contexts", type=int, default=None, help=f"contexts in the corpus (default {DEFAULT_CONTEXTS}, {CJK_CONTEXTS} for the CJK corpora: every corpus then gives 9,000-14,000 frames)")
    parser.add_argument("--words", type=int, default=5500, help="words per context (default 5500)")
    parser.add_argument("--corpus", type=Path, default=None, help="a plain-text file to cut instead of the machine's license texts")
    parser.add_argument("--copyright-files", action="store_true", help="same as --corpus-set path-heavy")
    parser.add_argument("--corpus-set", choices=(*CORPUS_SETS, "all"), default="prose", help="packaged corpus to cut (default prose); all: each in turn")
    parser.add_argument("--chars", type=int, default=3000, help="characters per context of the CJK corpora (default 3000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each t2vid row, taking turns; the fastest is reported (default 3)")
    parser.add_argument("--no-recipe", action="store_true", help="leave out the paper recipe's row (it takes ~20x as long as t2vid)")
    parser.add_argument("--quick", action="store_true", help="small run: 20 contexts x 2,000 words; memory runs of 1K and 10K records")
    parser.add_argument("--stages", action="store_true", help="also time each stage of t2vid's pipeline in-process (one core)")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory of synth on 5K- and 50K-record inputs (50 words each)")
    parser.add_argument("--huge", action="store_true", help="instead of the corpus tables: peak memory of synth on one huge context (license texts repeated)")
    parser.add_argument("--huge-chars", type=int, default=10_000_000, help="characters of the --huge context (default 10,000,000)")
    parser.add_argument("--work-dir", type=Path, default=None, help="folder for the corpus and the outputs (default: the system's temporary folder, $TMPDIR); the bench reports how fast files are created there")
    parser.add_argument("--paper-recipe-child", nargs=3, metavar=("CORPUS", "OUT", "FONT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.paper_recipe_child:
        corpus, out, font_path = args.paper_recipe_child
        run_paper_recipe(Path(corpus), Path(out), font_path)
        return
    if args.quick:
        args.contexts, args.words = min(args.contexts or DEFAULT_CONTEXTS, 20), min(args.words, 2000)
    if args.work_dir is not None and not args.work_dir.is_dir():
        parser.error(f"--work-dir {args.work_dir}: not a folder")
    sys.stdout.reconfigure(line_buffering=True)  # tables appear as each part finishes, also when redirected
    from t2vid.fonts import resolve_face

    font_path = resolve_face(None).path
    compile_t2vid()
    names = CORPUS_SETS if args.corpus_set == "all" else ("path-heavy" if args.copyright_files else args.corpus_set,)
    print(machine())
    if args.huge:
        with tempfile.TemporaryDirectory(prefix="t2vid-bench-", dir=args.work_dir) as tmp:
            print(f"\nhuge context: one record, t2vid {' '.join(synth_argv(Path('huge.jsonl'), Path('huge'), 1)[3:])}; load average {os.getloadavg()[0]:.1f}\n")
            print_huge(*huge_run(args.huge_chars, Path(tmp)))
        return
    with tempfile.TemporaryDirectory(prefix="t2vid-bench-", dir=args.work_dir) as tmp:  # deleted at the end only: see measure_synth
        for name in names:
            work = Path(tmp) / name
            work.mkdir()
            bench_corpus(args, name, font_path, work)


def bench_corpus(args: argparse.Namespace, name: str, font_path: str, work: Path) -> None:
    """The table (and stage and memory tables when asked) for one corpus set."""
    corpus = work / "corpus.jsonl"
    cjk = name in CJK_SETS and not args.corpus
    contexts = args.contexts or (CJK_CONTEXTS if cjk else DEFAULT_CONTEXTS)
    if cjk:
        total_words = write_char_corpus(corpus, corpus_text(name), contexts, args.chars)
        print(f"\ncorpus {name}: {contexts} contexts x {args.chars} characters = {total_words} words (a CJK character is one); default font {font_path} with fallback; {PAPER_SIZE}x{PAPER_SIZE}, size {PAPER_FONT_SIZE}, {PAPER_WORDS_PER_FRAME} words/frame\n")
    else:
        words = corpus_text(name).split() if name == "code" and not args.corpus else corpus_words(args.corpus, name == "path-heavy")
        total_words = write_corpus(corpus, words, contexts, args.words)
        print(f"\ncorpus {args.corpus or name}: {contexts} contexts x {args.words} words = {total_words} words; font {font_path}; {PAPER_SIZE}x{PAPER_SIZE}, size {PAPER_FONT_SIZE}, {PAPER_WORDS_PER_FRAME} words/frame\n")
    cores = os.cpu_count() or 1
    speeds = cpu_speeds()
    pin = max(speeds, key=speeds.get) if len(speeds) > 1 else None
    creation = settled_file_creation_us(work)
    print(f"work folder {work.parent}: a 20 KB file in a new folder takes {creation:.0f} us to create" + (" (slow: frame files will be a large part of every run; try --work-dir on another folder)" if creation > SLOW_FILE_US else "") + "\n")
    best: dict[int, Measurement] = {}
    parts = split_corpus(corpus, cores) if cores > 1 and len(os.sched_getaffinity(0)) == cores else []  # one part per CPU this bench may use
    parts_best = float("inf")  # the fastest the corpus ran as independent one-worker parts, one per CPU at once (see measure_parts)
    alone = float("inf")  # seconds of the CPU loop on the pinned CPU alone, the fastest seen
    ceiling: dict[int, float | None] = {}  # workers -> what the CPUs did busy at once right before their fastest run
    rounds: list[dict[int, float]] = []  # each round's seconds per worker count, run back to back
    for _ in range(args.repeat):  # interleaved, so a slow spell of a shared machine does not land on one row only
        rounds.append({})
        for workers in sorted({1, cores}):
            if workers > 1 and pin is not None:
                alone = min(alone, *cpu_loop([pin]))  # the fastest the pinned CPU ran alone so far: a slow moment is not the reference
                together = cpus_together(alone)
            else:
                together = None
            run = measure_synth(corpus, total_words, work, workers, pin if workers == 1 else None)
            rounds[-1][workers] = run.seconds
            if workers not in best or run.seconds < best[workers].seconds:
                best[workers], ceiling[workers] = run, together
        if parts:
            parts_best = min(parts_best, measure_parts(parts, work))
    recipe = not cjk and not args.no_recipe
    rows = ([measure_paper(corpus, total_words, work, font_path, pin)] if recipe else []) + [best[w] for w in sorted(best)]
    one_core = best[1]
    print(format_table(rows))
    if args.repeat > 1:
        print(f"(t2vid rows: the fastest of {args.repeat} runs each, one and {cores} workers taking turns)")
    if recipe:
        print(f"\nt2vid 1 core / paper recipe: {one_core.words_per_s / rows[0].words_per_s:.2f}x words/s ({one_core.frames_per_s / rows[0].frames_per_s:.2f}x frames/s); per CPU second: {one_core.words_per_cpu_s / rows[0].words_per_cpu_s:.2f}x words")
    for workers, row in sorted(best.items())[1:]:
        measured = f" (right before that run, all CPUs busy at once did {ceiling[workers]:.2f}x the pinned one alone)" if ceiling[workers] is not None else ""
        print(f"{row.name} / 1 core: {row.words_per_s / one_core.words_per_s:.2f}x{measured}")
        if args.repeat > 1:
            paired = sorted(r[1] / r[workers] for r in rounds)
            print(f"each round's own ratio (its two runs back to back, so a drift of the host over minutes cancels): {', '.join(f'{x:.2f}x' for x in paired)}; median {statistics.median(paired):.2f}x")
        if parts and workers == cores:
            print(f"the corpus in {cores} parts, one `--workers 1` process per CPU, all at once (no pool): {parts_best:.1f} s, {one_core.seconds / parts_best:.2f}x one core; the pool's speed is {parts_best / row.seconds:.0%} of that")
    if pin is not None:
        print(f"(one-process rows pinned to CPU {pin}, the fastest; CPU speeds before the runs, a pinned Python loop: {', '.join(f'CPU {cpu} {speed:.2f}' for cpu, speed in sorted(speeds.items()))})")
    if cjk:
        print("(no paper recipe row: it breaks lines at spaces only and its font has no CJK glyphs)")
    elif recipe:
        print("(frames differ: the recipe counts punctuation as tokens and never checks fit; compare words/s)")
    if args.stages:
        print_stages(*stage_times(corpus, work))
    if args.memory:
        sizes = (1_000, 10_000) if args.quick else (5_000, 50_000)
        print(f"\nmemory: synth --workers {cores}, streamed JSONL of 50-word records")
        print_memory(memory_runs(corpus_words(None), sizes, 50, work))


if __name__ == "__main__":
    main()
