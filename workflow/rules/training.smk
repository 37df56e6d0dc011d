# Training runs (model: training): `spikeflow train` trains each run epoch by epoch, checkpoints
# after every epoch and writes spikes.h5 (standard layout, so analyze_rates applies), the
# per-epoch tables and the figures. `train` serves single-rank runs, `train_mpi` runs with
# simulation.ranks > 1 (the `mpi` resource names the launcher). A killed job resumes from its
# latest checkpoint when rerun (--resume).


rule train:
    wildcard_constraints:
        run=runs_pattern(mpi=False, driver="train"),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        **training_run_outputs(f"{RESULTS}/{{run}}"),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.spikes),
    log:
        f"{RESULTS}/{{run}}/logs/train.log",
    threads: lambda wildcards: RUNS[wildcards.run].threads
    resources:
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow train --config {input.config:q} --out-dir {params.out_dir:q} --run-id {wildcards.run:q} --resume 2>&1 | tee {log:q}"


rule train_mpi:
    wildcard_constraints:
        run=runs_pattern(mpi=True, driver="train"),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        **training_run_outputs(f"{RESULTS}/{{run}}"),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.spikes),
    log:
        f"{RESULTS}/{{run}}/logs/train.log",
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
        "{resources.mpi} -n {resources.tasks} spikeflow train --config {input.config:q} "
        "--out-dir {params.out_dir:q} --run-id {wildcards.run:q} --resume 2>&1 | tee {log:q}"
