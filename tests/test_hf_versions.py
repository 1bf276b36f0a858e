"""The hf export's Parquet shards are readable by every datasets version t2vid supports (>= 2.16).

datasets >= 4 names list features `List` in the metadata it writes, which
datasets 3.x rejects ("Feature type 'List' not found"); the shards use the
older `Sequence` spelling, which both read (checked with datasets 3.6 and 5.2,
see docs/trainers.md). This test checks the spelling and that the installed
datasets reads it back to the same features.
"""

from __future__ import annotations

import json

from t2vid.cli import main
from t2vid.exports.hf import features

from conftest import license_text, synth_records


def test_parquet_feature_metadata_is_spelled_for_old_and_new_datasets(tmp_path):
    import datasets
    import pyarrow.parquet as pq

    records = [{"context": license_text("BSD", 60), "question": ["Q1?", "Q2?"], "answer": ["A1.", "A2."]}]
    out = synth_records(tmp_path, records, words_per_frame=20)
    dest = tmp_path / "hf"
    assert main(["export", str(out), "--to", "hf", "-o", str(dest), "-q"]) == 0
    shard = next((dest / "data").glob("train-*.parquet"))
    spelled = json.loads(pq.read_schema(shard).metadata[b"huggingface"])["info"]["features"]
    assert '"List"' not in json.dumps(spelled)
    assert spelled["frames"] == {"feature": {"_type": "Image"}, "length": -1, "_type": "Sequence"}
    assert spelled["turns"] == [{"instruction": {"dtype": "string", "_type": "Value"}, "answer": {"dtype": "string", "_type": "Value"}}]
    loaded = datasets.load_dataset("parquet", data_files=str(shard), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.features == features()
    assert loaded[0]["turns"] == [{"instruction": "Q2?", "answer": "A2."}] and loaded[0]["frames"][0].size == (224, 224)
