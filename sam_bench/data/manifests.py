"""Dataset manifests (``data_manifests/<dataset>.json``): what each dataset is and how to verify a
copy of it. The facts come from the catalog (``sam_bench.data.catalog``); the pinned subsample
lists a manifest also holds are ``sam_bench.data.pins``; building and re-pinning, which read the
tasks' records, are the ``sam-bench data`` command (``sam_bench.manifest_cli``).

A manifest records:

* ``tfds``: the tensorflow-datasets builder name, version and module the records were checked
  against, and whether that builder needs TensorFlow;
* ``downloads``: the release files tfds downloads (URL, file name, bytes, sha256 as tfds
  registers them) and ``get``: how to obtain and unpack them into the local layout;
* ``files``: the local-layout files (path under the data root, split, bytes and sha256 where
  known) and ``variants``: other accepted files (e.g. the layout of ../shared/data);
* ``splits``: the number of examples of each split and where the number comes from (counted in
  ../shared/data, or the tfds catalog);
* ``subsamples``: per training task, the pinned nested subsample index lists (``sam_bench.data.pins``).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from sam_bench.data.catalog import CATALOG, tfds_builder
from sam_bench.data.pins import clear_cache, load_manifest, manifest_dir
from sam_bench.fingerprint import sha256_file
from sam_bench.io import atomic_write

__all__ = ["FORMAT", "manifest_entry", "write_manifest", "verify", "format_report"]

FORMAT = 1


def _tfds_url_infos(entry: dict) -> dict:
    """url -> (bytes, sha256, file name) as tensorflow-datasets registers them."""
    if not entry.get("tfds"):
        return {}
    try:
        import tensorflow_datasets as tfds  # optional: without it the downloads carry no checksums

        importlib.import_module(entry["tfds"]["module"])
        cls = tfds.builder_cls(entry["tfds"]["name"].split("/")[0])
        infos = cls.url_infos or {}
    except Exception:  # pragma: no cover - tfds missing or changed
        return {}
    return {url: (int(i.size), i.checksum, i.filename) for url, i in infos.items()}


def manifest_entry(dataset: str, shared_root: str | Path | None = None) -> dict:
    """The manifest of ``dataset`` without its pinned subsamples: from the catalog, the tfds
    checksum registry and (where present) the files under ``shared_root``."""
    entry = json.loads(json.dumps(CATALOG[dataset]))  # deep copy
    infos = _tfds_url_infos(entry)
    out = {"format": FORMAT, "dataset": dataset, "title": entry["title"], "tasks": entry["tasks"],
           "homepage": entry["homepage"]}
    t = tfds_builder(dataset)
    if t is not None:
        t["tensorflow_note"] = (
            "its tfds generators call tf.io.gfile: the tfds path needs `pip install tensorflow-cpu`"
            if t["needs_tensorflow"] else "works without TensorFlow (see sam_bench/data/sources.py)")
    out["tfds"] = t
    out["downloads"] = []
    for url in entry["urls"]:
        size, sha, name = infos.get(url, (None, None, url.rstrip("/").split("/")[-1].split("?")[0]))
        out["downloads"].append({"url": url, "file": name, "bytes": size, "sha256": sha,
                                 "sha256_source": "tensorflow-datasets checksum registry" if sha else None})
    by_sha = {d["sha256"]: d for d in out["downloads"] if d["sha256"]}
    out["get"] = entry["get"]
    root = Path(shared_root) if shared_root else None
    for group in ("files", "variants"):
        rows = []
        for f in entry[group]:
            f = dict(f)
            f.update({"bytes": None, "sha256": None, "sha256_source": None})
            p = root / f["path"] if root else None
            if p is not None and p.is_file():
                f["bytes"], f["sha256"] = p.stat().st_size, sha256_file(p)
                f["sha256_source"] = ("official: equals the tensorflow-datasets registered checksum"
                                      if f["sha256"] in by_sha else "reference copy in ../shared/data")
            rows.append(f)
        out[group] = rows
    out["splits"] = entry["splits"]
    return out


def write_manifest(manifest: dict, directory: str | Path | None = None) -> Path:
    directory = Path(directory) if directory is not None else manifest_dir()
    body = {k: v for k, v in manifest.items() if not k.startswith("_")}
    path = atomic_write(directory / f"{manifest['dataset']}.json", json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    clear_cache()
    return path


# ------------------------------------------------------------------------ verify
def verify(root: str | Path | None = None, datasets=None, archives: str | Path | None = None,
           directory: str | Path | None = None) -> list[dict]:
    """Check a data root (and/or a directory of release archives for the tfds path) against the
    manifests. One row per expected file: {"dataset", "path", "status", "message"} with status
    OK, MISSING, ALT (missing, but an accepted alternative file for the same split is present
    and is what the tasks read), DIFFERS (an official checksum does not match), CHANGED (differs
    from the reference copy the manifest recorded), VARIANT (another known file is present)."""
    rows = []
    for dataset in datasets or sorted(CATALOG):
        m = load_manifest(dataset, directory)
        get = " ; ".join(m["get"])
        if root is not None:
            root = Path(root)
            variants_present = [v for v in m["variants"] if (root / v["path"]).exists()]
            for f in m["files"]:
                p = root / f["path"]
                row = {"dataset": dataset, "path": str(p), "split": f["split"]}
                if not p.exists():
                    same = [v for v in variants_present if v["split"] == f["split"]]
                    part = [v for v in variants_present if v not in same and
                            v["split"].split("-")[0] == f["split"].split("-")[0] and not v["split"].endswith("32")]
                    get_it = f"Get it: {get}." + (f" Or through tensorflow-datasets: {m['tfds']['name']}:"
                                                  f"{m['tfds']['version']}." if m.get("tfds") else "")
                    if same:
                        row["status"] = "ALT"
                        row["message"] = (f"{f['path']} is missing; the tasks read the accepted alternative "
                                          + "; ".join(f"{v['path']} ({v['note']})" for v in same)
                                          + f". The official file: {get_it}")
                    else:
                        row["status"] = "MISSING"
                        row["message"] = f"{f['path']} ({f['from']}) is missing. {get_it}"
                        if part:
                            row["message"] += " Present (part of it): " + "; ".join(v["path"] for v in part)
                elif p.is_dir() or f["sha256"] is None:
                    row["status"], row["message"] = "OK", f"{f['path']} present (no checksum recorded)"
                else:
                    sha = sha256_file(p)
                    if sha == f["sha256"]:
                        row["status"], row["message"] = "OK", f"{f['path']} matches sha256 {sha[:12]}"
                    elif (f["sha256_source"] or "").startswith("official"):
                        row["status"] = "DIFFERS"
                        row["message"] = (f"{f['path']} has sha256 {sha[:12]}, the official file has {f['sha256'][:12]} "
                                          f"({p.stat().st_size} vs {f['bytes']} bytes). Get it again: {get}")
                    else:
                        row["status"] = "CHANGED"
                        row["message"] = (f"{f['path']} has sha256 {sha[:12]}, the reference copy recorded in the "
                                          f"manifest has {f['sha256'][:12]}; its records are checked against the "
                                          "pinned fingerprints when a cell uses it")
                rows.append(row)
            used = {r["message"] for r in rows if r["status"] == "ALT" and r["dataset"] == dataset}
            for v in variants_present:
                if any(v["path"] in msg for msg in used):
                    continue
                rows.append({"dataset": dataset, "path": str(root / v["path"]), "split": v["split"],
                             "status": "VARIANT", "message": f"{v['path']}: {v['note']}"})
        if archives is not None and m.get("tfds"):
            builder = m["tfds"]["name"].split("/")[0]
            for d in m["downloads"]:
                p = Path(archives) / builder / d["file"]
                if not p.exists():
                    p = Path(archives) / d["file"]
                row = {"dataset": dataset, "path": str(p), "split": "download"}
                if not p.exists():
                    row["status"], row["message"] = "MISSING", f"{d['file']} is missing; download {d['url']}"
                elif d["sha256"] and sha256_file(p) != d["sha256"]:
                    row["status"] = "DIFFERS"
                    row["message"] = f"{d['file']} does not match the registered sha256 {d['sha256'][:12]}; download {d['url']}"
                else:
                    row["status"], row["message"] = "OK", f"{d['file']} ok"
                rows.append(row)
    return rows


def format_report(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        lines.append(f"{r['status']:8s} {r['dataset']:32s} {r['message']}")
    counts = {s: sum(r["status"] == s for r in rows)
              for s in ("OK", "ALT", "VARIANT", "MISSING", "DIFFERS", "CHANGED")}
    lines.append("summary: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return "\n".join(lines)

