# The vocabulary and the pretrained checkpoint every fine-tuning cell starts from
# (the shape of "public checkpoint → fine-tune" in the paper). It gets all the cores.

rule pretrain:
    input:
        corpus_input,
    output:
        f"{RESULTS}/pretrain/{PRETRAIN_ID}/pretrain.json",
    threads: workflow.cores
    params:
        config=lambda wildcards: json.dumps(CONFIG),
    shell:
        "sam-bench pretrain --config-json {params.config:q} --threads {threads}"
        " --compilation-cache {JAX_CACHE}"
