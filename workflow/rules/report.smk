# Aggregate every cell into tidy tables, then regenerate the report from them. A diverged
# cell writes its result.json like any other (status "diverged"), so both always run.
# The report's tables and figures are marked for Snakemake's own report as well:
# `snakemake --cores 1 --report report.html` (or .zip) after a run gives them as one browsable page.

rule aggregate:
    input:
        # every cell's result.json (or, with cells_per_job > 1, every batch's list of them)
        DONE_FILES,
    output:
        f"{SUMMARY}/summary.parquet",
        f"{SUMMARY}/summary.csv",
        f"{SUMMARY}/cells.csv",
    log:
        f"{SUMMARY}/aggregate.log",
    params:
        out=SUMMARY,
        cells=f"{RESULTS}/cells",
        table=CELL_TABLE,
    shell:
        # the cell ids come from the table: 50,000 result paths would overflow a command line
        "sam-bench aggregate --cells-dir {params.cells:q} --cell-table {params.table:q} --out {params.out:q}"
        " 2> >(tee {log:q} >&2)"


rule report:
    input:
        f"{SUMMARY}/summary.parquet",
        f"{SUMMARY}/cells.csv",
    output:
        report(REPORT, category="Report", caption="../report/report_pdf.rst"),
        # one CSV per table and one PNG per figure (beside them: .md/.tex tables, .pdf figures)
        report(directory(f"{REPORT_DIR}/tables"), patterns=["{name}.csv"], category="Tables",
               caption="../report/table.rst", labels={"table": "{name}"}),
        report(directory(f"{REPORT_DIR}/figures"), patterns=["{name}.png"], category="Figures",
               caption="../report/figure.rst", labels={"figure": "{name}"}),
    log:
        f"{REPORT_DIR}/report.log",
    params:
        summary=SUMMARY,
        out=REPORT_DIR,
        title=f"sam-bench: {CONFIG['experiment']}",
    shell:
        "sam-bench report --summary {params.summary:q} --out {params.out:q} --title {params.title:q}"
        " 2> >(tee {log:q} >&2)"
