# sam-bench: every (model, task, subsample rate, optimizer, ρ, seed) cell of a config, then
# the aggregated tables and the report. Rules only call the `sam-bench` CLI.
#   snakemake --cores 2                                   # the default config (CPU, minutes)
#   snakemake --cores 64 --configfile config/bahri2022.yaml --profile workflow/profiles/slurm
#   snakemake --cores 1 --report report.html                    # the interactive report of a finished run
# Parameters: config/README.md (generated from workflow/schemas/config.schema.yaml).
configfile: "config/default.yaml"  # the default reproduction; a --configfile replaces it (common.smk)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/finetune.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/diagnostics.smk"


rule all:
    input:
        REPORT,
        DIAGNOSTICS_CSV if DIAGNOSTIC_KINDS else [],
    default_target: True
