# One NEST simulation per run of the study: `simulate` for single-rank runs (threads only),
# `simulate_mpi` for runs with simulation.ranks > 1 (the `mpi` resource names the launcher;
# clusters set it in their profile, e.g. `srun`).


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
        "spikeflow resolve --json {params.cfg:q} --out {output:q} > {log:q} 2>&1"


rule simulate:
    wildcard_constraints:
        run=runs_pattern(mpi=False),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
    log:
        f"{RESULTS}/{{run}}/logs/simulate.log",
    threads: lambda wildcards: RUNS[wildcards.run].threads
    resources:
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow simulate --config {input.config:q} --out {output.spikes:q} --run-id {wildcards.run:q} 2>&1 | tee {log:q}"


rule simulate_mpi:
    wildcard_constraints:
        run=runs_pattern(mpi=True),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
    log:
        f"{RESULTS}/{{run}}/logs/simulate.log",
    # all cores the job occupies (so that a local run schedules nothing beside it); Slurm gets
    # --ntasks = ranks and --cpus-per-task = threads per rank from the resources below
    threads: lambda wildcards: RUNS[wildcards.run].ranks * RUNS[wildcards.run].threads
    resources:
        mpi="mpirun --bind-to none",
        tasks=lambda wildcards: RUNS[wildcards.run].ranks,
        cpus_per_task=lambda wildcards: RUNS[wildcards.run].threads,
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "export SRUN_CPUS_PER_TASK={resources.cpus_per_task}; "
        "{resources.mpi} -n {resources.tasks} spikeflow simulate --config {input.config:q} "
        "--out {output.spikes:q} --run-id {wildcards.run:q} 2>&1 | tee {log:q}"
