#!/usr/bin/env bash
# Do two commits give the same numbers? Runs one config at each (same machine, same venv) and
# compares every result row, cell by cell.
#
#   bash benchmarks/same_numbers.sh REV_A REV_B [CONFIG] [CORES]
#   bash benchmarks/same_numbers.sh 0c3f577 HEAD benchmarks/same_numbers.yaml 2
#
# Each commit is checked out (git worktree, detached) beside this repository, so a config's
# ../shared/data resolves as it does here; the CONFIG file is taken from the current tree.
# Prints the rows that differ and the largest absolute difference; exits 1 if any value differs.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
A=${1:?REV_A}; B=${2:?REV_B}; CONFIG=$(realpath "${3:-$REPO/benchmarks/same_numbers.yaml}"); CORES=${4:-2}
PY=${PY:-$REPO/.venv/bin/python}
SNAKEMAKE=${SNAKEMAKE:-$REPO/.venv/bin/snakemake}
for rev in "$A" "$B"; do
  sha=$(git -C "$REPO" rev-parse --short "$rev")
  tree="$REPO/../.same-numbers-$sha"
  [ -d "$tree" ] || git -C "$REPO" worktree add --detach -q "$tree" "$sha"
  echo "== $rev ($sha) in $tree"
  (cd "$tree" && PYTHONPATH="$tree" PATH="$(dirname "$PY"):$PATH" \
     "$SNAKEMAKE" results/summary/same_numbers/summary.csv --cores "$CORES" --rerun-incomplete \
     --configfile "$CONFIG")
done
"$PY" - "$REPO/../.same-numbers-$(git -C "$REPO" rev-parse --short "$A")" \
        "$REPO/../.same-numbers-$(git -C "$REPO" rev-parse --short "$B")" <<'PY'
import sys
import pandas as pd
key = ["cell_id", "task", "metric"]
a, b = (pd.read_csv(f"{d}/results/summary/same_numbers/summary.csv") for d in sys.argv[1:3])
m = a[key + ["value", "step"]].merge(b[key + ["value", "step"]], on=key, how="outer", suffixes=("_a", "_b"),
                                     indicator=True)
missing = m[m["_merge"] != "both"]
both = m[m["_merge"] == "both"]
diff = (both["value_a"] - both["value_b"]).abs()
print(f"{len(both)} rows in both ({both['cell_id'].nunique()} cells), {len(missing)} in one only")
changed = both[(diff > 0) | (both["step_a"] != both["step_b"])]
if len(changed):
    print(changed.to_string(index=False))
print(f"largest |value difference|: {diff.max():.3g}")
sys.exit(1 if len(changed) or len(missing) else 0)
PY
