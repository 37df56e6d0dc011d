# One NEST simulation per run of the study.


rule run_config:
    output:
        f"{RESULTS}/{{run}}/config.yaml",
    params:
        cfg=run_config_json,
    log:
        f"{RESULTS}/{{run}}/logs/run_config.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow resolve --json {params.cfg:q} --out {output} > {log} 2>&1"


rule simulate:
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
    log:
        f"{RESULTS}/{{run}}/logs/simulate.log",
    threads: lambda wildcards: RUNS[wildcards.run].threads
    resources:
        mem_mb=lambda wildcards: run_resources(RUNS[wildcards.run])["mem_mb"],
        runtime=lambda wildcards: run_resources(RUNS[wildcards.run])["runtime"],
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow simulate --config {input.config} --out {output.spikes} --run-id {wildcards.run} 2>&1 | tee {log}"
