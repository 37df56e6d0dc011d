# One run of the study per job, for every family and for users' own models: `spikeflow run`
# (the one driver; the training family's epochs with checkpoints and resume). `run` serves runs
# without MPI; `run_mpi` is the same rule for runs with simulation.ranks > 1, launched by the
# `mpi` resource (clusters set it in their profile, e.g. `srun`).


rule run_config:
    input:
        PLAN.model_files(),  # a user's model file: a change to it reruns the runs
    output:
        f"{RESULTS}/{{run}}/config.yaml",
    params:
        cfg=lambda wildcards: PLAN.run_config_json(wildcards.run),
    log:
        f"{RESULTS}/{{run}}/logs/run_config.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow resolve --json {params.cfg:q} --out {output:q} > {log:q} 2>&1"


rule run:
    wildcard_constraints:
        run=PLAN.runs_pattern(mpi=False),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
        **PLAN.run_inputs(),
    output:
        **as_outputs(PLAN.run_outputs()),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.spikes),
        study=PLAN.study_config_args(),  # the study config's path and hash go into the provenance
        launch="",
    log:
        f"{RESULTS}/{{run}}/logs/run.log",
    threads: lambda wildcards: RUNS[wildcards.run].threads
    resources:
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "{params.launch}spikeflow run --config {input.config:q} --out-dir {params.out_dir:q} "
        "--run-id {wildcards.run:q} {params.study:q} 2>&1 | tee {log:q}"


use rule run as run_mpi with:
    wildcard_constraints:
        run=PLAN.runs_pattern(mpi=True),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.spikes),
        study=PLAN.study_config_args(),
        # the launcher comes from the profile (not from the study): `mpirun ...` or `srun`
        launch=lambda wildcards, resources: (
            f"export SRUN_CPUS_PER_TASK={resources.cpus_per_task}; {resources.mpi} -n {resources.tasks} "
        ),
    # all cores the job occupies (so that a local run schedules nothing beside it); Slurm gets
    # --ntasks = ranks and --cpus-per-task = threads per rank from the resources below
    threads: lambda wildcards: RUNS[wildcards.run].ranks * RUNS[wildcards.run].threads
    resources:
        mpi="mpirun --bind-to none",
        tasks=lambda wildcards: RUNS[wildcards.run].ranks,
        cpus_per_task=lambda wildcards: RUNS[wildcards.run].threads,
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],
