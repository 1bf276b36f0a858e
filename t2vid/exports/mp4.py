"""MP4: one H.264 video per distinct frame sequence, plus index.jsonl mapping every sample to its video.

Samples over the same context share frames, so they share one video. Encoding
uses PyAV (the `video` extra) with libx264, yuv420p and CRF 18. Two settings
make the bytes reproducible: one encoder thread (x264's output depends on its
thread count) and no macroblock tree (`mbtree=0`: with it, x264's output
changed with the state of the heap, e.g. under MALLOC_PERTURB_ or after
encoding another video in the same process). yuv420p needs even sides; an odd
frame gets a one-pixel band of its corner (background) colour on the right or
bottom.
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Future
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Sequence, Union

from t2vid.errors import UsageError
from t2vid.exports.base import ExportError, ExportOptions, Format, Item, KeyMaker, VideoFile, Writer, fps_value, frames_digest, padded_frames
from t2vid.exports.items import metadata
from t2vid.writer import StagedFile

CRF = "18"  # small text stays legible


def import_av():
    try:
        import av
    except ImportError:
        raise UsageError("mp4 and llava exports need PyAV: pip install 't2vid[video]'") from None
    return av


def even_sized(image):
    """yuv420p halves the chroma planes: pad odd sides with the corner colour."""
    from PIL import Image

    width, height = image.size
    if width % 2 == 0 and height % 2 == 0:
        return image
    padded = Image.new(image.mode, (width + width % 2, height + height % 2), image.getpixel((0, 0)))
    padded.paste(image, (0, 0))
    return padded


def encode_mp4(frames: Sequence[Union[Path, str]], path: Path, fps: float) -> None:
    """Frames in order, one per 1/fps seconds, into PATH (written under a temporary name, then renamed)."""
    av = import_av()
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    with StagedFile(path) as temporary:
        with av.open(str(temporary), "w", format="mp4") as container:
            stream = None
            for index, frame_path in enumerate(frames):
                with Image.open(frame_path) as source:
                    image = even_sized(source.convert("RGB"))
                if stream is None:
                    stream = container.add_stream("libx264", rate=rate)
                    stream.width, stream.height = image.size
                    stream.pix_fmt = "yuv420p"
                    stream.thread_count = 1
                    stream.options = {"crf": CRF, "x264-params": "mbtree=0"}
                elif image.size != (stream.width, stream.height):
                    raise ExportError(f"{frame_path}: frame size {image.size} differs from the first frame's {(stream.width, stream.height)}")
                frame = av.VideoFrame.from_image(image)
                frame.pts = index
                for packet in stream.encode(frame):
                    container.mux(packet)
            if stream is None:
                raise ExportError(f"{path.name}: no frames to encode")
            for packet in stream.encode():
                container.mux(packet)


class VideoEncoder:
    """Item with frames -> Item with DEST/videos/<key>.mp4; each distinct frame sequence is encoded once.

    With several workers the videos are encoded in other processes while rows
    are written; names are chosen here in sample order, and each video is
    encoded alone, so the files do not depend on the worker count.
    `finish` waits for them all.

    `frame_factor` 2 is for readers that sample a video file's frames in
    pairs (qwen-vl-utils: an odd count loses its last frame, 3 frames lose
    the middle one, 1 frame is an error): the last frame is repeated up to an
    even count of at least 2, and `padded` counts the samples that needed it.
    """

    def __init__(self, dest: Path, fps: float, workers: int = 1, frame_factor: int = 1):
        self.directory = Path(dest) / "videos"
        self.fps = fps
        self.frame_factor = frame_factor
        self.padded = 0
        self.keys = KeyMaker()
        self.encoded: dict[bytes, Path] = {}
        self.pool = None
        if workers > 1:
            from t2vid.engines.pool import process_pool

            self.pool = process_pool(workers)
        self.window = 4 * workers  # videos queued at most: bounds memory, keeps progress honest
        self.pending: deque[Future] = deque()

    def __call__(self, item: Item) -> Item:
        if isinstance(item.media, VideoFile):
            return item
        frames = padded_frames(item.media.paths, self.frame_factor)
        self.padded += len(frames) != len(item.media.paths)
        digest = frames_digest(frames)
        path = self.encoded.get(digest)
        if path is None:
            path = self.directory / f"{self.keys(item.id)}.mp4"
            self._encode(frames, path)
            self.encoded[digest] = path
        return replace(item, media=VideoFile(path))

    def _encode(self, frames: tuple, path: Path) -> None:
        if self.pool is None:
            encode_mp4(frames, path, self.fps)
            return
        self.pending.append(self.pool.submit(encode_mp4, frames, path, self.fps))
        while len(self.pending) > self.window:
            self.pending.popleft().result()

    def finish(self) -> None:
        """Every video written; raises the first encoding error."""
        while self.pending:
            self.pending.popleft().result()
        if self.pool is not None:
            self.pool.shutdown()

    def abort(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class Mp4Writer(Writer):
    def __init__(self, fmt: "Mp4Format", options: ExportOptions):
        self.options = options
        self.place = fmt.placer(options)
        self.encoder = VideoEncoder(options.dest, options.fps, options.workers)
        self.staged = StagedFile(options.dest / "index.jsonl")
        self.handle = open(self.staged.temporary, "w", encoding="utf-8")

    def write(self, item: Item) -> None:
        video = self.encoder(item).media.path
        row = {"id": item.id, "video": self.place(video), "fps": fps_value(self.options.fps), **metadata(item)}
        self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self) -> list[Path]:
        self.handle.close()
        self.encoder.finish()
        return [self.staged.commit(), self.encoder.directory]

    def abort(self) -> None:
        self.handle.close()
        self.staged.discard()
        self.encoder.abort()


class Mp4Format(Format):
    name = "mp4"

    def check(self, options: ExportOptions) -> None:
        super().check(options)
        import_av()

    def open(self, options: ExportOptions) -> Mp4Writer:
        return Mp4Writer(self, options)


FORMAT = Mp4Format()
