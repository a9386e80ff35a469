# One job per cell. Each job gets `threads_per_cell` threads; Snakemake never runs more
# jobs than --cores allows, so jobs do not oversubscribe the CPU. An interrupted cell
# resumes from its last checkpoint when the workflow is run again. On a cluster each job
# asks for the config's `cluster` resources (GPUs per cell, partition, sbatch extras).

rule finetune:
    input:
        # the pretraining output supplies the workflow model's weights and vocabulary; cells
        # that start from a public checkpoint wait only for their data
        lambda wildcards: cell_inputs(CELLS[wildcards.cell]),
    output:
        f"{RESULTS}/cells/{{cell}}/result.json",
    threads: CONFIG.get("threads_per_cell", 1)
    resources:
        **CELL_RESOURCES,
    params:
        cell=lambda wildcards: json.dumps(CELLS[wildcards.cell]),
        mesh=MESH_ARG,
    shell:
        "sam-bench run-cell --cell {params.cell:q} --threads {threads} --compilation-cache {JAX_CACHE}{params.mesh}"
