# Diagnostics over finished cells (config key `diagnostics`), so they never slow a cell:
# the loss landscape (1-D interpolation θ₁ + α(θ₁ − θ₀), 2-D filter-normalised surface) and
# the Hessian's top eigenvalue and trace, each a tidy-rows JSON beside the cell's result;
# then one CSV and the landscape figures. Rules only call the CLI.
DIAGNOSTICS = CONFIG.get("diagnostics") or DEFAULTS["diagnostics"]
DIAGNOSTIC_KINDS = [k for k in ("landscape", "hessian") if DIAGNOSTICS[k]]
DIAGNOSTICS_CSV = f"{SUMMARY}/diagnostics.csv"


rule landscape:
    input:
        f"{RESULTS}/cells/{{cell}}/result.json",
    output:
        f"{RESULTS}/cells/{{cell}}/landscape.json",
    log:
        f"{RESULTS}/cells/{{cell}}/landscape.log",
    threads: CONFIG["threads_per_cell"]
    params:
        cell_dir=lambda wildcards: f"{RESULTS}/cells/{wildcards.cell}",
        points_1d=DIAGNOSTICS["points_1d"],
        points_2d=DIAGNOSTICS["points_2d"],
        sample=DIAGNOSTICS["sample"],
        cache=JAX_CACHE,
    shell:
        "sam-bench landscape --cell-dir {params.cell_dir:q} --out {output:q} --sample {params.sample}"
        " --points-1d {params.points_1d} --points-2d {params.points_2d}"
        " --threads {threads} --compilation-cache {params.cache:q} 2> >(tee {log:q} >&2)"


rule hessian:
    input:
        f"{RESULTS}/cells/{{cell}}/result.json",
    output:
        f"{RESULTS}/cells/{{cell}}/hessian.json",
    log:
        f"{RESULTS}/cells/{{cell}}/hessian.log",
    threads: CONFIG["threads_per_cell"]
    params:
        cell_dir=lambda wildcards: f"{RESULTS}/cells/{wildcards.cell}",
        steps=DIAGNOSTICS["lanczos_steps"],
        sample=DIAGNOSTICS["sample"],
        cache=JAX_CACHE,
    shell:
        "sam-bench hessian --cell-dir {params.cell_dir:q} --out {output:q} --sample {params.sample}"
        " --steps {params.steps} --threads {threads} --compilation-cache {params.cache:q} 2> >(tee {log:q} >&2)"


rule diagnostics:
    input:
        expand(f"{RESULTS}/cells/{{cell}}/{{kind}}.json", cell=sorted(CELLS), kind=DIAGNOSTIC_KINDS),
    output:
        DIAGNOSTICS_CSV,
        # the landscape figures (none when only the Hessian is measured)
        report(directory(f"{REPORT_DIR}/diagnostics"), patterns=["{name}.png"], category="Diagnostics",
               caption="../report/diagnostics.rst"),
    log:
        f"{SUMMARY}/diagnostics.log",
    params:
        figures=f"{REPORT_DIR}/diagnostics",
    shell:
        "mkdir -p {params.figures:q} && sam-bench diagnostics {input:q} --out {output[0]:q} --figures {params.figures:q}"
        " 2> >(tee {log:q} >&2)"
