"""Data layer: dataset catalog and manifests, task source specs, data sources, pinned subsamples,
synthetic world, tokenizer, span corruption, batching. It never imports ``sam_bench.tasks``.

Submodules are imported on use (``from sam_bench.data.batching import batch_at_step``)
so that importing one piece does not pull in the others' dependencies.
"""
