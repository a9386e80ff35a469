# Data sources. The synthetic suite is always written: its corpus feeds pretraining, and
# with `source: synthetic` its tasks (in the official file layouts) are the fine-tuning data.
# `local` and `tfds` read the user's official files; the loaders check them.

rule synthesize:
    priority: 10  # the critical path: the pretrained cells wait on it, so it starts first
    output:
        f"{SYNTHETIC_ROOT}/suite.json",
    log:
        f"{SYNTHETIC_ROOT}/synthesize.log",
    params:
        root=SYNTHETIC_ROOT,
        seed=CONFIG["data"]["synthetic_seed"],
    shell:
        "sam-bench synthesize --root {params.root:q} --seed {params.seed} 2> >(tee {log:q} >&2)"
