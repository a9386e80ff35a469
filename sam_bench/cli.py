"""`sam-bench`: the command line the workflow rules call (and users can call directly)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sam_bench.errors import ConfigError
from sam_bench.train.lock import CellLocked


def _setup(threads: int | None, cache_dir: str | None) -> None:
    # Must run before anything starts JAX's backend.
    from sam_bench import runtime

    runtime.limit_cpu_threads(threads)
    runtime.enable_compilation_cache(cache_dir)


def cmd_validate(args) -> None:
    from sam_bench.config import expand_cells, load_config

    from sam_bench.report.targets import TARGETS, warn_unlike

    config = load_config(args.config)
    cells = expand_cells(config)
    warn_unlike(str(args.config), cells, TARGETS)  # methods one target compares should differ only in the method
    print(f"{args.config}: valid; {len(cells)} cells in {len(config['grids'])} grid(s)")


def cmd_cells(args) -> None:
    from sam_bench.config import expand_cells, load_config

    cells = expand_cells(load_config(args.config))
    if args.json:
        print(json.dumps(cells, indent=1))
        return
    for cell in cells:
        print(cell["cell_id"])


def cmd_synthesize(args) -> None:
    from sam_bench.data.synthetic import write_synthetic_suite
    from sam_bench.io import write_json_atomic

    sizes = write_synthetic_suite(args.root, seed=args.seed)
    write_json_atomic(Path(args.root) / "suite.json", {"seed": args.seed, "sizes": sizes})
    print(f"synthetic suite (seed {args.seed}) written to {args.root}: {sizes}")


def cmd_pretrain(args) -> None:
    _setup(args.threads, args.compilation_cache)
    from sam_bench.config import load_config, pretrain_id, synthetic_root
    from sam_bench.train.pretrain import run_pretrain

    if args.config:
        config = load_config(args.config)
        spec, corpus = config["pretrain"], Path(synthetic_root(config)) / "corpus" / "pretrain.txt"
        out = Path(config["results_dir"]) / "pretrain" / pretrain_id(config)
    else:  # what the workflow passes: only what the pretraining depends on
        spec, corpus, out = json.loads(args.spec_json), Path(args.corpus), Path(args.out)
    run_pretrain(spec, corpus=corpus, out_dir=out, progress=not args.no_progress)
    print(out / "pretrain.json")


def cmd_run_cell(args) -> None:
    from sam_bench.parallel import initialize_distributed

    initialize_distributed()  # multi-host (Slurm, TPU VM): before anything starts JAX's backend
    _setup(args.threads, args.compilation_cache)
    from sam_bench.train.finetune import run_cell
    from sam_bench.train.language_model import is_lm_cell, run_lm_cell

    if args.cell_table:
        from sam_bench.cell_table import read_cell

        if not args.cell_id:
            raise ConfigError("--cell-table needs --cell-id, the id(s) of the cell(s) to run")
        cells = [read_cell(args.cell_table, cid) for cid in args.cell_id]
    else:
        cells = [json.loads(args.cell) if args.cell else json.loads(Path(args.cell_file).read_text())]
    failed, done = [], []
    for cell in cells:  # a batch (cells_per_job > 1) runs its cells in turn; one failure stops no other
        out = Path(cell["results_dir"]) / "cells" / cell["cell_id"]
        try:
            if is_lm_cell(cell):  # a language-model cell (the Functional-SAM comparison)
                result = run_lm_cell(cell, out, progress=not args.no_progress, stop_after=args.stop_after)
            else:
                result = run_cell(cell, out, progress=not args.no_progress, stop_after=args.stop_after,
                                  wait_for_lock=args.if_locked == "wait", mesh=args.mesh)
        except CellLocked as err:
            print(f"sam-bench: skipped: {err}", file=sys.stderr)
            sys.exit(4)
        except Exception as err:
            if len(cells) == 1 or args.debug:
                raise
            print(f"sam-bench: error: cell {cell['cell_id']}: {type(err).__name__}: {err}", file=sys.stderr)
            failed.append(cell["cell_id"])
            continue
        if result is None:
            print(f"stopped after step {args.stop_after}; run again to resume", file=sys.stderr)
            sys.exit(3)
        done.append(str(out / "result.json"))
        print(out / "result.json")
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(cells)} cells failed: {failed}; the others finished")
    if args.batch_out:
        from sam_bench.io import write_json_atomic

        write_json_atomic(args.batch_out, {"results": done})


def cmd_diagnose(args) -> None:
    """`landscape` / `hessian` over a finished cell's checkpoint: tidy rows to a JSON file."""
    _setup(args.threads, args.compilation_cache)
    from sam_bench.analysis.cells import finite, hessian_rows, landscape_rows, load_finished_cell
    from sam_bench.io import write_json_atomic

    fc = load_finished_cell(args.cell_dir, sample=args.sample)
    if args.command == "landscape":
        rows = landscape_rows(fc, points_1d=args.points_1d, points_2d=args.points_2d, seed=args.seed)
    else:
        rows = hessian_rows(fc, steps=args.steps, probes=args.probes)
    write_json_atomic(args.out, {"cell_id": fc.cell["cell_id"], "kind": args.command, "rows": finite(rows)})
    print(args.out)


def cmd_diagnostics(args) -> None:
    from sam_bench.report.landscape import write_diagnostics

    for path in write_diagnostics(args.inputs, args.out, args.figures):
        print(path)


def cmd_data(args) -> None:
    from sam_bench.manifest_cli import main as manifests_main

    sys.exit(manifests_main(args.args))


def cmd_memory(args) -> None:
    from sam_bench.memory import main as memory_main

    sys.exit(memory_main(args.args))


def cmd_plan(args) -> None:
    from sam_bench.plan import main as plan_main

    sys.exit(plan_main(args.args))


def cmd_aggregate(args) -> None:
    from sam_bench.report.aggregate import collect_results, write_summary

    paths = [Path(p) for p in args.results]
    if args.cell_table:  # the workflow: this config's cells, wherever they sit
        from sam_bench.cell_table import cell_ids

        if not args.cells_dir:
            raise ConfigError("--cell-table needs --cells-dir, the folder holding <cell_id>/result.json")
        paths += [Path(args.cells_dir) / cid / "result.json" for cid in cell_ids(args.cell_table)]
    if not paths:
        raise ConfigError("give result files or folders, or --cells-dir with --cell-table")
    rows, cells = collect_results(paths)
    if cells.empty:
        raise ConfigError(f"no result files found in {[str(p) for p in args.results] or args.cells_dir}")
    write_summary(rows, cells, args.out)
    print(f"{len(rows)} rows from {len(cells)} cells → {args.out}")


def _git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def cmd_report(args) -> None:
    from sam_bench.report.pdf import build_report

    meta = {"git_commit": _git_commit(), **(json.loads(args.meta) if args.meta else {})}
    path = build_report(args.summary, args.out, title=args.title, meta=meta)
    print(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sam-bench", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate a config and count its cells")
    p.add_argument("config")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("cells", help="list the cells of a config")
    p.add_argument("config")
    p.add_argument("--json", action="store_true", help="print the full cell specs")
    p.set_defaults(func=cmd_cells)

    p = sub.add_parser("synthesize", help="write the synthetic task suite and pretraining corpus")
    p.add_argument("--root", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_synthesize)

    for name, func, help_text in (("pretrain", cmd_pretrain, "train the vocabulary and pretrain the model"),
                                  ("run-cell", cmd_run_cell, "fine-tune one cell (resumes from its checkpoint)")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--threads", type=int, default=None, help="CPU threads for this job (default: all)")
        p.add_argument("--compilation-cache", default=None, help="directory for XLA's persistent cache")
        p.add_argument("--no-progress", action="store_true")
        p.set_defaults(func=func)
        if name == "pretrain":
            p.add_argument("--config", help="a config file (or give --spec-json, --corpus and --out)")
            p.add_argument("--spec-json", help="the validated `pretrain` section as JSON")
            p.add_argument("--corpus", help="the pretraining corpus, one document per line")
            p.add_argument("--out", help="output directory")
        else:
            group = p.add_mutually_exclusive_group(required=True)
            group.add_argument("--cell", help="the cell spec as JSON")
            group.add_argument("--cell-file", help="a file holding the cell spec")
            group.add_argument("--cell-table", help="a cell table the workflow wrote (with --cell-id)")
            p.add_argument("--cell-id", nargs="+", help="the cell(s) of --cell-table to run, in turn")
            p.add_argument("--batch-out", help="with several --cell-id: write the list of their result files here")
            p.add_argument("--if-locked", choices=["wait", "skip"], default="wait",
                           help="when another run is training this cell: wait for it (default) or skip (exit 4)")
            p.add_argument("--mesh", default=None,
                           help="devices of this cell, e.g. data=8 or data=2,fsdp=4 (default: all, on data)")
            p.add_argument("--stop-after", type=int, default=None,
                           help="stop (exit 3) after the first checkpoint at or past this step; for testing resume")

    for name, help_text in (("landscape", "1-D interpolation and 2-D loss surface around a finished cell's weights"),
                            ("hessian", "top Hessian eigenvalue (Lanczos) and trace (Hutchinson) of a finished cell")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--cell-dir", required=True, help="results/cells/<cell_id> of a finished cell")
        p.add_argument("--out", required=True, help="the JSON file of tidy rows to write")
        p.add_argument("--sample", type=int, default=64, help="training examples in the fixed sample (file order)")
        p.add_argument("--threads", type=int, default=None)
        p.add_argument("--compilation-cache", default=None)
        if name == "landscape":
            p.add_argument("--points-1d", type=int, default=21, help="α values in [-1, 1] (0: skip)")
            p.add_argument("--points-2d", type=int, default=25, help="grid points per axis in [-1, 1] (0: skip)")
            p.add_argument("--seed", type=int, default=0, help="seed of the two random directions")
        else:
            p.add_argument("--steps", type=int, default=20, help="Lanczos steps (Hessian-vector products)")
            p.add_argument("--probes", type=int, default=10, help="Hutchinson probes for the trace")
        p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("diagnostics", help="collect landscape/hessian rows into a CSV and draw the landscape figures")
    p.add_argument("inputs", nargs="+", help="landscape.json / hessian.json files")
    p.add_argument("--out", required=True, help="the CSV to write")
    p.add_argument("--figures", required=True, help="folder for landscape_1d / landscape_2d (.pdf, .png)")
    p.set_defaults(func=cmd_diagnostics)

    p = sub.add_parser("data", help="verify data against data_manifests/, pin subsamples, show a manifest",
                       add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("memory", help="estimate memory per model size (params, optimizer state, SAM's copy)",
                       add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_memory)

    p = sub.add_parser("plan", help="cells, per-device memory and accelerator-hours of a config for a device and "
                                    "mesh (no checkpoint needed)", add_help=False)
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("aggregate", help="collect result.json files into summary tables")
    p.add_argument("results", nargs="*", help="result files or folders searched for result.json")
    p.add_argument("--cells-dir", help="with --cell-table: the folder of the cells' result folders")
    p.add_argument("--cell-table", help="aggregate the cells of this cell table")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_aggregate)

    p = sub.add_parser("report", help="regenerate tables, figures and the PDF from a summary")
    p.add_argument("--summary", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="sam-bench report")
    p.add_argument("--meta", default=None, help="JSON with extra facts for the title page")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ConfigError as err:
        if args.debug:
            raise
        print(f"sam-bench: error: {err}", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # data, checkpoint and file errors: one line, the traceback only on request
        if args.debug:
            raise
        text = str(err) or repr(err)
        print(f"sam-bench: error: {type(err).__name__}: {text}\n(run `sam-bench --debug {args.command} ...` "
              f"for the traceback)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
