"""Ray engine settings: storage modes, addresses, and the checks a worker makes before it draws.

That its output is byte-identical to the local engine's, in both storage
modes and on several nodes, is tested on a real multi-node cluster in
test_ray_cluster.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import FIXTURES, run_synth

ray = pytest.importorskip("ray")


def test_storage_mode_may_change_on_resume(tmp_path, english_jsonl):
    """--ray-storage decides who writes, not what: a run may resume in the other mode (the local engine ignores it)."""
    run_synth(tmp_path / "out", english_jsonl, shard_size=2, size="224x224", ray_storage="shared")
    summary = run_synth(tmp_path / "out", english_jsonl, shard_size=2, size="224x224", ray_storage="driver")
    assert summary.shards_resumed == 2


def test_bad_storage_mode_is_one_line(tmp_path):
    from t2vid.errors import UsageError

    with pytest.raises(UsageError, match=r"^--ray-storage must be driver or shared, not 'nfs'$"):
        run_synth(tmp_path / "out", ray_storage="nfs")


def test_ray_address_never_joins_a_cluster_by_accident(monkeypatch):
    """Without --ray-address the run uses $RAY_ADDRESS (ray job submit sets it), else a private local Ray."""
    from t2vid.config import SynthConfig
    from t2vid.engines.ray import ray_address

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert ray_address(SynthConfig()) == "local"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert ray_address(SynthConfig()) == "10.0.0.1:6379"
    assert ray_address(SynthConfig(ray_address="auto")) == "auto"


def _chunk_on_node(tmp_path, check, **settings):
    from t2vid.config import build_config
    from t2vid.engines.ray import run_chunk_on_node
    from t2vid.pipeline import WorkChunk

    config = build_config({"output": str(tmp_path / "out"), "engine": "ray", **settings})
    return run_chunk_on_node(config, (), WorkChunk(0, (), True), check(config))


def test_worker_that_does_not_see_shared_out_is_refused(tmp_path):
    from t2vid.engines.ray import NodeCheck, NodeMismatch, software_of

    with pytest.raises(NodeMismatch, match="does not see OUT .*use --ray-storage driver"):
        _chunk_on_node(tmp_path, lambda config: NodeCheck(software_of(config), "ray-probe-written-by-the-driver"), ray_storage="shared")


def test_worker_with_other_fonts_is_refused(tmp_path):
    """A node whose fonts or libraries differ would draw other bytes: the run stops instead."""
    from t2vid.engines.ray import NodeCheck, NodeMismatch, software_of

    def other_font(config):
        return NodeCheck(software_of(replace(config, style=replace(config.style, font=str(FIXTURES.parent.parent / "t2vid" / "__init__.py")))), None)

    with pytest.raises(NodeMismatch, match=r"would draw other bytes than the driver \(t2vid .*fonts \w+; the driver has t2vid .*install the same"):
        _chunk_on_node(tmp_path, other_font)
    from t2vid.config import build_config
    from t2vid.engines.ray import check_node

    config = build_config({"output": str(tmp_path / "out"), "engine": "ray"})
    assert check_node(config, NodeCheck(software_of(config), None)) is None  # the same software passes


def test_synth_from_python_leaves_the_callers_garbage_collector_as_it_was(tmp_path, english_jsonl, monkeypatch):
    import gc

    from t2vid.engines import local
    from t2vid.engines.collector import COLLECTOR_THRESHOLDS

    seen = []
    original = local.process_chunk

    def recording(*args):
        seen.append(gc.get_threshold())
        return original(*args)

    monkeypatch.setattr(local, "process_chunk", recording)
    gc.set_threshold(500, 5, 5)
    try:
        summary = run_synth(tmp_path / "out", english_jsonl)
        assert summary.samples == 4
        assert seen and set(seen) == {COLLECTOR_THRESHOLDS}  # the run itself collected with rendering's settings
        assert gc.get_threshold() == (500, 5, 5) and gc.get_freeze_count() == 0
    finally:
        gc.set_threshold(700, 10, 10)


def test_an_in_process_run_lets_go_of_its_worker_and_caches(tmp_path, english_jsonl):
    """With one worker synth() runs in the caller's process; its segmentations and masks must not outlive the run."""
    from t2vid import pipeline

    run_synth(tmp_path / "out", english_jsonl)
    assert pipeline._WORKER is None


def test_objects_the_caller_froze_stay_frozen(tmp_path, english_jsonl):
    """A process that froze its objects (a pre-fork server) keeps them frozen through an in-process run."""
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        run_synth(tmp_path / "out", english_jsonl)
        assert frozen > 0 and gc.get_freeze_count() > 0  # not thawed (objects freed meanwhile leave the count)
    finally:
        gc.unfreeze()
