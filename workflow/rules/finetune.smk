# One job per cell (or per batch of `cells_per_job` cells). Each job gets `threads_per_cell`
# threads; Snakemake never runs more jobs than --cores allows, so jobs do not oversubscribe
# the CPU. An interrupted cell resumes from its last checkpoint when the workflow is run again.
# On a cluster each job asks for the config's `cluster` resources (GPUs per cell, partition,
# sbatch extras).

if not BATCHES:

    rule finetune:
        input:
            # the pretraining output supplies the workflow model's weights and vocabulary; cells
            # that start from a public checkpoint wait only for their data
            lambda wildcards: cell_inputs(CELLS[wildcards.cell]),
        output:
            f"{RESULTS}/cells/{{cell}}/result.json",
        log:
            f"{RESULTS}/cells/{{cell}}/finetune.log",
        threads: CONFIG["threads_per_cell"]
        resources:
            **CELL_RESOURCES,
        params:
            table=CELL_TABLE,
            cache=JAX_CACHE,
            mesh=MESH_ARG,
        shell:
            # every path quoted: a results_dir with a space or a `;` is a path, never a command
            "sam-bench run-cell --cell-table {params.table:q} --cell-id {wildcards.cell:q} --threads {threads}"
            " --compilation-cache {params.cache:q}{params.mesh} 2> >(tee {log:q} >&2)"

else:

    rule finetune_batch:
        input:
            lambda wildcards: sorted({f for c in BATCHES[wildcards.batch] for f in cell_inputs(CELLS[c])}),
        output:
            # lists the batch's result files; each cell's result.json is written as it finishes
            f"{RESULTS}/batches/{{batch}}.json",
        log:
            # each cell also keeps its own log.jsonl in its folder
            f"{RESULTS}/batches/{{batch}}.log",
        threads: CONFIG["threads_per_cell"]
        resources:
            **CELL_RESOURCES,
        params:
            table=CELL_TABLE,
            cache=JAX_CACHE,
            mesh=MESH_ARG,
            ids=lambda wildcards: BATCHES[wildcards.batch],
        shell:
            "sam-bench run-cell --cell-table {params.table:q} --cell-id {params.ids:q} --batch-out {output:q}"
            " --threads {threads} --compilation-cache {params.cache:q}{params.mesh} 2> >(tee {log:q} >&2)"
