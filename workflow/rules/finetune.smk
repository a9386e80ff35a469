# One job per cell. Each job gets `threads_per_cell` threads; Snakemake never runs more
# jobs than --cores allows, so jobs do not oversubscribe the CPU. An interrupted cell
# resumes from its last checkpoint when the workflow is run again.

rule finetune:
    input:
        # the pretraining output supplies the workflow model's weights and vocabulary; cells
        # that start from a public checkpoint wait only for their data
        lambda wildcards: cell_inputs(CELLS[wildcards.cell]),
    output:
        f"{RESULTS}/cells/{{cell}}/result.json",
    threads: CONFIG.get("threads_per_cell", 1)
    resources:
        # constants, so planning never stats inputs per job (the defaults do); a cluster
        # profile sets its own
        mem_mb=4000,
        disk_mb=1000,
    params:
        table=CELL_TABLE,
        cache=JAX_CACHE,
    shell:
        # every path quoted: a results_dir with a space or a `;` is a path, never a command
        "sam-bench run-cell --cell-table {params.table:q} --cell-id {wildcards.cell:q} --threads {threads}"
        " --compilation-cache {params.cache:q}"
