"""``sam-bench data``: verify data against ``data_manifests/``, (re)build the manifests, pin subsamples.

Building and pinning read each training task's records through its reader, so this command
sits above both ``sam_bench.tasks`` and ``sam_bench.data`` (data never imports tasks).

    verify --root DIR [--archives DIR] [--dataset NAME ...]   check files, say what is missing and where to get it
    pin DATASET --root DIR [--source local|tfds] [--seeds 0 1 2]   (re)pin after a deliberate data change
    build --shared ../shared/data                                  regenerate every manifest
    show DATASET                                                   print the manifest summary

(also ``python -m sam_bench.manifest_cli ...``)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sam_bench.data.catalog import CATALOG, FINGERPRINTED, train_split_of
from sam_bench.data.manifests import format_report, manifest_entry, verify, write_manifest
from sam_bench.data.pins import load_manifest, pin_entry
from sam_bench.data.sources import resolve_source
from sam_bench.data.subsample import dataset_fingerprint
from sam_bench.tasks.registry import get_task

__all__ = ["build_manifest", "write_manifests", "pin", "main"]

DEFAULT_SEEDS = (0, 1, 2)
BIG_DATASET = 150_000  # training sets larger than this are pinned for seed 0 only by default


def build_manifest(dataset: str, shared_root: str | Path | None = None, seeds=None) -> dict:
    """The manifest of ``dataset``: ``manifest_entry`` plus the pinned subsamples of each training
    task, with the fingerprints of the training records found under ``shared_root``."""
    out = manifest_entry(dataset, shared_root)
    root = Path(shared_root) if shared_root else None
    seeds = tuple(seeds) if seeds is not None else None
    out["subsamples"] = {}
    for task_name in out["tasks"]:
        task = get_task(task_name)
        split = out["splits"].get(train_split_of(task_name))
        if not task.trains or split is None:  # no fixed training-set size (conll2014): nothing to pin
            continue
        n = split["examples"]
        fingerprints = []
        if root is not None and task_name in FINGERPRINTED:
            try:
                records = task.load(root, "train")
            except FileNotFoundError:
                records = None
            if records is not None:
                if len(records) != n:
                    raise ValueError(f"{dataset}: {task_name} train has {len(records)} examples in {root}, "
                                     f"the catalog says {n}")
                fingerprints.append({"sha256": dataset_fingerprint(records),
                                     "source": f"records of {task.path(root, 'train').relative_to(root)} in ../shared/data"})
        task_seeds = seeds if seeds is not None else (DEFAULT_SEEDS if n <= BIG_DATASET else (0,))
        out["subsamples"][task_name] = pin_entry(n, task_seeds, fingerprints)
    return out


def write_manifests(shared_root: str | Path | None, directory: str | Path | None = None, datasets=None) -> list[Path]:
    return [write_manifest(build_manifest(d, shared_root), directory) for d in (datasets or CATALOG)]


def pin(dataset: str, source, seeds=None, directory: str | Path | None = None) -> dict:
    """Re-pin ``dataset``'s subsamples for the training sets ``source`` yields (sizes and
    fingerprints recorded from them); the metadata is kept. Writes the manifest."""
    manifest = dict(load_manifest(dataset, directory))
    for task_name, old in list(manifest.get("subsamples", {}).items()):
        task = get_task(task_name)
        records = source.load(task, "train")
        fp = {"sha256": dataset_fingerprint(records), "source": f"pinned from {source.describe()}"}
        keep = [f for f in old["fingerprints"] if len(records) == old["examples"] and f["sha256"] != fp["sha256"]]
        task_seeds = seeds if seeds is not None else [int(s) for s in old["seeds"]]
        manifest["subsamples"][task_name] = pin_entry(len(records), task_seeds, keep + [fp])
        if len(records) != old["examples"]:
            split = train_split_of(task_name)
            manifest["splits"][split] = {"examples": len(records), "source": f"pinned from {source.describe()}"}
    write_manifest(manifest, directory)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sam-bench data", description="dataset manifests: verify, pin, build")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("verify", help="check a data directory (and/or release archives) against data_manifests/")
    p.add_argument("--root", help="data root laid out like the official releases")
    p.add_argument("--archives", help="directory of release files for the tfds path (names as tfds registers them)")
    p.add_argument("--dataset", action="append", help="only these datasets (repeatable); default all")
    p.add_argument("--allow-changed", action="store_true",
                   help="exit 0 on CHANGED files (differ from the recorded reference copy); default: exit 1")
    p = sub.add_parser("pin", help="re-pin a dataset's subsamples to the training data at hand")
    p.add_argument("dataset")
    p.add_argument("--root", required=True, help="local data root, or tfds data_dir with --source tfds")
    p.add_argument("--source", default="local", choices=["local", "tfds"])
    p.add_argument("--archives", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=None)
    p = sub.add_parser("build", help="regenerate every manifest from the catalog")
    p.add_argument("--shared", default=None, help="../shared/data, for checksums, counts and fingerprints")
    p.add_argument("--dataset", action="append")
    p = sub.add_parser("show", help="summarise a manifest")
    p.add_argument("dataset")
    args = parser.parse_args(argv)

    if args.command == "verify":
        if not args.root and not args.archives:
            parser.error("verify needs --root and/or --archives")
        unknown = [d for d in (args.dataset or []) if d not in CATALOG]
        if unknown:
            parser.error(f"unknown dataset(s) {unknown}; valid: {sorted(CATALOG)}")
        rows = verify(args.root, args.dataset, args.archives)
        print(format_report(rows))
        # a CHANGED file feeds cells different records than the pinned subsamples were drawn from
        bad = {"MISSING", "DIFFERS"} | (set() if args.allow_changed else {"CHANGED"})
        return 1 if any(r["status"] in bad for r in rows) else 0
    if args.command == "pin":
        kwargs = {"archives": args.archives} if args.source == "tfds" else {}
        m = pin(args.dataset, resolve_source(args.root, args.source, **kwargs), args.seeds)
        print(f"pinned {args.dataset}: " + ", ".join(f"{t} n={e['examples']} seeds={sorted(e['seeds'])}"
                                                     for t, e in m["subsamples"].items()))
        return 0
    if args.command == "build":
        for path in write_manifests(args.shared, datasets=args.dataset):
            print(path)
        return 0
    if args.command == "show":
        m = load_manifest(args.dataset)
        print(f"{m['dataset']}: {m['title']} (tasks {', '.join(m['tasks'])})")
        if m.get("tfds"):
            print(f"  tfds {m['tfds']['name']}:{m['tfds']['version']} - {m['tfds']['tensorflow_note']}")
        for s, e in m["splits"].items():
            print(f"  {s}: {e['examples']} examples ({e['source']})")
        for t, e in m["subsamples"].items():
            print(f"  subsamples {t}: n={e['examples']} rates {e['ladder']} counts {e['counts']} seeds {sorted(e['seeds'])}")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
