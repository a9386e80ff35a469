# Aggregate every cell into tidy tables, then regenerate the report from them. A diverged
# cell writes its result.json like any other (status "diverged"), so both always run.

rule aggregate:
    input:
        # every cell's result.json (or, with cells_per_job > 1, every batch's list of them)
        DONE_FILES,
    output:
        f"{SUMMARY}/summary.parquet",
        f"{SUMMARY}/summary.csv",
        f"{SUMMARY}/cells.csv",
    params:
        out=SUMMARY,
        cells=f"{RESULTS}/cells",
        table=CELL_TABLE,
    shell:
        # the cell ids come from the table: 50,000 result paths would overflow a command line
        "sam-bench aggregate --cells-dir {params.cells:q} --cell-table {params.table:q} --out {params.out:q}"


rule report:
    input:
        f"{SUMMARY}/summary.parquet",
        f"{SUMMARY}/cells.csv",
    output:
        REPORT,
    params:
        summary=SUMMARY,
        out=lambda wildcards, output: str(Path(output[0]).parent),
        title=f"sam-bench: {CONFIG['experiment']}",
    shell:
        "sam-bench report --summary {params.summary:q} --out {params.out:q} --title {params.title:q}"
