# Aggregate every cell into tidy tables, then regenerate the report from them.

rule aggregate:
    input:
        expand(f"{RESULTS}/cells/{{cell}}/result.json", cell=sorted(CELLS)),
    output:
        f"{SUMMARY}/summary.parquet",
        f"{SUMMARY}/summary.csv",
        f"{SUMMARY}/cells.csv",
    params:
        out=SUMMARY,
    shell:
        "sam-bench aggregate {input} --out {params.out}"


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
        "sam-bench report --summary {params.summary} --out {params.out} --title {params.title:q}"
