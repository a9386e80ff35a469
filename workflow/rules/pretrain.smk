# The vocabulary and the pretrained checkpoint every fine-tuning cell starts from
# (the shape of "public checkpoint → fine-tune" in the paper). It gets all the cores unless
# `pretrain_threads` leaves some to cells that do not wait for it (checkpoint-initialised ones).

rule pretrain:
    priority: 10  # the critical path: the pretrained cells wait on it, so it starts first
    input:
        f"{SYNTHETIC_ROOT}/suite.json",
    output:
        f"{RESULTS}/pretrain/{PRETRAIN_ID}/pretrain.json",
    log:
        f"{RESULTS}/pretrain/{PRETRAIN_ID}/pretrain.log",
    threads: CONFIG.get("pretrain_threads") or workflow.cores
    params:
        spec=json.dumps(CONFIG["pretrain"], sort_keys=True),
        corpus=f"{SYNTHETIC_ROOT}/corpus/pretrain.txt",
        out=f"{RESULTS}/pretrain/{PRETRAIN_ID}",
        cache=JAX_CACHE,
    shell:
        "sam-bench pretrain --spec-json {params.spec:q} --corpus {params.corpus:q} --out {params.out:q}"
        " --threads {threads} --compilation-cache {params.cache:q} 2> >(tee {log:q} >&2)"
