"""Real videos as frame folders, for trainers that read frames but not video files.

InternVL's finetune script opens a `{"video": path}` row only through its
internal storage client (`tcs_loader`, None elsewhere), and MiniCPM-V's has no
video reader at all; both read a list of images. `mix --to internvl|minicpmv`
therefore decodes each real video once with PyAV, keeps `count` frames spread
evenly over it (all of them when it has fewer), and writes them as PNGs to
DEST/frames/<key>/f000.png ...; the row becomes a multi-image row over them.
"""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO
from pathlib import Path

from t2vid.exports.base import ExportError, Frames, Item, KeyMaker, VideoFile
from t2vid.writer import write_atomic

FOLDER = "frames"


def spread(total: int, count: int) -> list[int]:
    """`count` frame indices spread evenly from the first frame to the last (all when there are fewer)."""
    if total <= count:
        return list(range(total))
    if count == 1:
        return [total // 2]
    return sorted({round(index * (total - 1) / (count - 1)) for index in range(count)})


class FrameExtractor:
    """Item with a video file -> Item with the frame paths; each video is decoded once."""

    def __init__(self, dest: Path, count: int):
        self.directory = Path(dest) / FOLDER
        self.count = count
        self.keys = KeyMaker()
        self.done: dict[str, tuple[Path, ...]] = {}
        self.videos = 0
        self.frames = 0

    def __call__(self, item: Item) -> Item:
        if not isinstance(item.media, VideoFile):
            return item
        video = str(item.media.path)
        if video not in self.done:
            self.done[video] = self.extract(video, self.directory / self.keys(Path(video).stem))
        return replace(item, media=Frames(self.done[video]))

    def extract(self, video: str, folder: Path) -> tuple[Path, ...]:
        from t2vid.exports.mp4 import import_av

        av = import_av()
        try:
            with av.open(video) as container:
                total = sum(1 for packet in container.demux(video=0) if packet.size)
            wanted = set(spread(total, self.count))
            paths = []
            with av.open(video) as container:
                for index, frame in enumerate(container.decode(video=0)):
                    if index in wanted:
                        buffer = BytesIO()
                        frame.to_image().save(buffer, format="PNG", compress_level=1)
                        path = folder / f"f{len(paths):03d}.png"
                        folder.mkdir(parents=True, exist_ok=True)
                        write_atomic(path, buffer.getvalue())
                        paths.append(path)
        except (OSError, ValueError, av.error.FFmpegError) as exc:
            raise ExportError(f"real video {video} cannot be turned into frames: {exc}") from None
        if not paths:
            raise ExportError(f"real video {video} has no frames")
        self.videos += 1
        self.frames += len(paths)
        return tuple(paths)
