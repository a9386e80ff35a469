# Data sources. `synthetic` writes the generated suite in the official file layouts;
# `local` reads a directory the user provides (checked by the tasks' loaders).

if CONFIG["data"]["source"] == "synthetic":

    rule synthesize:
        output:
            f"{DATA_ROOT}/suite.json",
        params:
            root=DATA_ROOT,
            seed=CONFIG["data"]["synthetic_seed"],
        shell:
            "sam-bench synthesize --root {params.root} --seed {params.seed}"


def corpus_input(wildcards):
    return f"{DATA_ROOT}/suite.json" if CONFIG["data"]["source"] == "synthetic" else []
