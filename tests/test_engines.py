"""The Ray engine runs the same shard tasks and writes the same bytes as the local engine."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, run_synth, tree_bytes

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_output_identical_to_local(tmp_path, english_jsonl):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        run_synth(tmp_path / "ray", english_jsonl, FIXTURES / "generic-sample.jsonl", engine="ray", shard_size=3, size="224x224")
    finally:
        ray.shutdown()
    run_synth(tmp_path / "local", english_jsonl, FIXTURES / "generic-sample.jsonl", shard_size=3, size="224x224", workers=2)
    assert tree_bytes(tmp_path / "ray") == tree_bytes(tmp_path / "local")
