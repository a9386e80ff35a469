"""Data layer: synthetic world, tokenizer, span corruption, subsampling, batching.

Submodules are imported on use (``from sam_bench.data.batching import batch_at_step``)
so that importing one piece does not pull in the others' dependencies.
"""
