"""Ray engine: the same work chunks as the local engine, one Ray task per chunk.

Who writes the frames is `--ray-storage`. `driver`: workers send each
chunk's encoded frames back with its result and never touch OUT, so OUT need
only exist where `t2vid synth` runs. `shared`: workers write frames into OUT
themselves, so OUT must be the same filesystem on every node (NFS, a shared
volume). Either way the driver writes each shard's JSONL when its chunks are
back.

Before its first chunk each worker process checks that it would write what
the driver's machine writes: the same t2vid, Pillow, FreeType, zlib and font
files, and (shared) the probe file the driver just put into OUT. A node that
fails stops the run with one line, instead of drawing other bytes or
scattering frames over its local disk.

Results come back in order and at most 2 x cluster CPUs chunks are in
flight (recounted as nodes join or leave): unfetched results wait in the
workers' object stores, and the driver holds one chunk at a time. Each result names the node that ran it, for the
manifest's `run.nodes`; the bytes written never depend on it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from t2vid import __version__
from t2vid.config import SynthConfig
from t2vid.errors import UsageError
from t2vid.engines.collector import rendering_collector
from t2vid.pipeline import ChunkResult, WorkChunk, process_chunk
from t2vid.writer import TMP_DIR


class NodeMismatch(RuntimeError):
    """A worker that would not write what the driver's machine writes: other software or fonts, or (shared) no view of OUT."""


@dataclass(frozen=True)
class NodeCheck:
    """What every worker process checks once, before its first chunk."""

    software: str  # software_of(config) on the driver
    probe: str | None  # --ray-storage shared: a file the driver put in OUT/.tmp


def software_of(config: SynthConfig) -> str:
    """What decides the bytes of a frame besides the settings: library versions and the font files.

    Fallback fonts come from fontconfig on each node, so with font fallback
    on, the installed font files (paths and sizes) count too.
    """
    import PIL
    from PIL import features

    fonts = hashlib.sha256()
    for path in sorted({config.style.font, *(path for path, _ in config.jitter_fonts)}):
        fonts.update(Path(path).read_bytes())
    if config.font_fallback:
        listing = subprocess.run(["fc-list", "--format", "%{file}\\n"], capture_output=True, text=True, check=False).stdout
        fonts.update("\n".join(f"{path} {os.path.getsize(path)}" for path in sorted(set(listing.splitlines())) if os.path.isfile(path)).encode())
    return (f"t2vid {__version__}, Pillow {PIL.__version__}, FreeType {features.version('freetype2')}, "
            f"raqm {features.version('raqm')}, zlib {zlib.ZLIB_RUNTIME_VERSION}, fonts {fonts.hexdigest()[:12]}")


_CHECKED: set[NodeCheck] = set()


def check_node(config: SynthConfig, check: NodeCheck) -> None:
    """Once per worker process and run: refuse to draw what the driver's machine would not."""
    if check in _CHECKED:
        return
    import ray

    node = ray.util.get_node_ip_address()
    try:
        here = software_of(config)
    except OSError as exc:
        raise NodeMismatch(f"Ray node {node} cannot read font file {exc.filename}; install the same fonts on every node") from None
    if here != check.software:
        raise NodeMismatch(f"Ray node {node} would draw other bytes than the driver ({here}; the driver has {check.software}); install the same t2vid, Pillow and fonts on every node")
    if check.probe is not None and not Path(config.output, TMP_DIR, check.probe).is_file():
        raise NodeMismatch(f"--ray-storage shared: Ray node {node} does not see OUT {config.output}; mount it at the same path on every node, or use --ray-storage driver")
    _CHECKED.add(check)


def run_chunk_on_node(config: SynthConfig, dataset_names: tuple[str, ...], chunk: WorkChunk, check: NodeCheck) -> ChunkResult:
    """The Ray task: a chunk's result, stamped with the id of the node that ran it."""
    import ray

    check_node(config, check)
    with rendering_collector():
        result = process_chunk(config, dataset_names, chunk)
    result.node = ray.get_runtime_context().get_node_id()
    return result


def ray_address(config: SynthConfig) -> str:
    """--ray-address, else RAY_ADDRESS (set by `ray job submit`), else a private local Ray.

    Ray's own default would join whatever cluster was last started on this
    machine; a run without an address must not land on someone else's cluster.
    """
    return config.ray_address or os.environ.get("RAY_ADDRESS") or "local"


RECOUNT_SECONDS = 10  # how often the cluster's CPUs are counted again, so nodes that join (autoscaling) get work


def in_flight_limit(ray) -> int:
    """Chunks in flight: 2 x the cluster's CPUs keeps every CPU busy while the driver takes results in order."""
    return 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_ray(config: SynthConfig, dataset_names: tuple[str, ...], chunks: Iterable[WorkChunk]) -> Iterator[ChunkResult]:
    try:
        import ray
        from ray.exceptions import RayTaskError
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 't2vid[ray]'") from None
    probe = None
    if config.ray_storage == "shared":
        probe = f"ray-probe-{uuid.uuid4().hex}"
        Path(config.output, TMP_DIR, probe).touch()
    check = NodeCheck(software_of(config), probe)
    started_here = not ray.is_initialized()
    window: deque = deque()
    try:
        if started_here:
            address = ray_address(config)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:  # unreachable, refused, malformed: one line, not "cannot write to OUT"
                last = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                raise UsageError(f"cannot start or reach Ray at --ray-address {address}: {last}") from None
        remote = ray.remote(run_chunk_on_node)
        config_ref = ray.put(config)
        limit, counted = in_flight_limit(ray), time.monotonic()

        def next_result() -> ChunkResult:
            try:
                return ray.get(window.popleft())
            except RayTaskError as exc:  # the worker's own exception, so the driver reports it as the local engine does
                if isinstance(exc.cause, NodeMismatch):
                    raise UsageError(str(exc.cause)) from None
                raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None

        for chunk in chunks:
            window.append(remote.remote(config_ref, dataset_names, chunk, check))
            if time.monotonic() - counted > RECOUNT_SECONDS:
                limit, counted = in_flight_limit(ray), time.monotonic()
            while len(window) >= limit:
                yield next_result()
        while window:
            yield next_result()
    except BaseException:
        if window:  # as the local pool does: no chunk of this run still draws into OUT once synth() has returned (a caller's own Ray keeps running them)
            ray.wait(list(window), num_returns=len(window))
        raise
    finally:
        if started_here:
            ray.shutdown()
        if probe is not None:
            Path(config.output, TMP_DIR, probe).unlink(missing_ok=True)
