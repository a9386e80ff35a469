# Diagnostics over finished cells (config key `diagnostics`), so they never slow a cell:
# the loss landscape (1-D interpolation θ₁ + α(θ₁ − θ₀), 2-D filter-normalised surface) and
# the Hessian's top eigenvalue and trace, each a tidy-rows JSON beside the cell's result;
# then one CSV and the landscape figures. Rules only call the CLI.
DIAGNOSTICS = CONFIG.get("diagnostics") or {}
DIAGNOSTIC_KINDS = [k for k in ("landscape", "hessian") if DIAGNOSTICS.get(k)]
DIAGNOSTICS_CSV = f"{SUMMARY}/diagnostics.csv"


rule landscape:
    input:
        f"{RESULTS}/cells/{{cell}}/result.json",
    output:
        f"{RESULTS}/cells/{{cell}}/landscape.json",
    threads: CONFIG.get("threads_per_cell", 1)
    params:
        cell_dir=lambda wildcards: f"{RESULTS}/cells/{wildcards.cell}",
        points_1d=DIAGNOSTICS.get("points_1d", 21),
        points_2d=DIAGNOSTICS.get("points_2d", 25),
        sample=DIAGNOSTICS.get("sample", 64),
    shell:
        "sam-bench landscape --cell-dir {params.cell_dir} --out {output} --sample {params.sample}"
        " --points-1d {params.points_1d} --points-2d {params.points_2d}"
        " --threads {threads} --compilation-cache {JAX_CACHE}"


rule hessian:
    input:
        f"{RESULTS}/cells/{{cell}}/result.json",
    output:
        f"{RESULTS}/cells/{{cell}}/hessian.json",
    threads: CONFIG.get("threads_per_cell", 1)
    params:
        cell_dir=lambda wildcards: f"{RESULTS}/cells/{wildcards.cell}",
        steps=DIAGNOSTICS.get("lanczos_steps", 20),
        sample=DIAGNOSTICS.get("sample", 64),
    shell:
        "sam-bench hessian --cell-dir {params.cell_dir} --out {output} --sample {params.sample}"
        " --steps {params.steps} --threads {threads} --compilation-cache {JAX_CACHE}"


rule diagnostics:
    input:
        expand(f"{RESULTS}/cells/{{cell}}/{{kind}}.json", cell=sorted(CELLS), kind=DIAGNOSTIC_KINDS),
    output:
        DIAGNOSTICS_CSV,
    params:
        figures=f"{CONFIG['report_dir']}/figures",
    shell:
        "sam-bench diagnostics {input} --out {output} --figures {params.figures}"
