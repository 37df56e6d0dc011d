# One run of the study per job, for every family and for users' own models: `spikeflow run`
# (the one driver; the training family's epochs with checkpoints and resume). `run` serves runs
# without MPI; `run_mpi` is the same rule for runs with simulation.ranks > 1, launched by the
# `mpi` resource (clusters set it in their profile, e.g. `srun`).
#
# A run job writes its resolved config (config.yaml, what `spikeflow resolve` writes) itself before
# it runs it, and its provenance.txt (what `spikeflow info spikes.h5 --out provenance.txt` writes;
# rank 0 of an MPI run) right after spikes.h5: no process of its own per run for either. The ranks
# of an MPI run all read one config.yaml, so for them the `run_config` job writes it first.


rule run_config:
    wildcard_constraints:
        run=PLAN.runs_pattern(mpi=True),
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
        PLAN.model_files(),  # a user's model file: a change to it reruns the runs
        **PLAN.run_inputs(),
    output:
        config=f"{RESULTS}/{{run}}/config.yaml",
        **as_outputs(PLAN.run_outputs()),
    params:
        # the resolved config as JSON (a change to it, and only to it, reruns the run) and where it goes
        config=lambda wildcards, output: ["--json", PLAN.run_config_json(wildcards.run), "--config", output.config],
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
        "{params.launch}spikeflow run {params.config:q} --out-dir {params.out_dir:q} "
        "--run-id {wildcards.run:q} --provenance {output.provenance:q} {params.study:q} 2>&1 | tee {log:q}"


use rule run as run_mpi with:
    wildcard_constraints:
        run=PLAN.runs_pattern(mpi=True),
    input:
        PLAN.model_files(),
        config=f"{RESULTS}/{{run}}/config.yaml",
        **PLAN.run_inputs(),
    output:
        **as_outputs(PLAN.run_outputs()),
    params:
        config=lambda wildcards, input: ["--config", input.config],
        out_dir=lambda wildcards, output: os.path.dirname(output.spikes),
        study=PLAN.study_config_args(),
        # the launcher comes from the profile (not from the study): `mpirun ...` or `srun`
        launch=lambda wildcards, resources: PLAN.mpi_launch(resources.mpi, resources.tasks, resources.cpus_per_task),
    # all cores the job occupies (so that a local run schedules nothing beside it); Slurm gets
    # --ntasks = ranks and --cpus-per-task = threads per rank from the resources below
    threads: lambda wildcards: RUNS[wildcards.run].ranks * RUNS[wildcards.run].threads
    resources:
        mpi="mpirun --bind-to none",
        tasks=lambda wildcards: RUNS[wildcards.run].ranks,
        cpus_per_task=lambda wildcards: RUNS[wildcards.run].threads,
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],


# Batches (`--config batch=N`): runs of a study one after another in one `spikeflow run` process,
# which loads NEST once (a fresh kernel per run: the same spikes as a run in a process of its own).
# Which runs, and how many per job, is decided in spikeflow.plan.Plan.batches; such runs have no
# `run` job of their own.
for batch in PLAN.batches:

    rule:
        name:
            batch.name
        input:
            PLAN.model_files(),
            **PLAN.run_inputs(),
        output:
            **as_outputs(PLAN.batch_outputs(batch)),
        params:
            json=[PLAN.run_config_json(run) for run in batch.runs],
            configs=[f"{RESULTS}/{run}/config.yaml" for run in batch.runs],
            out_dirs=[f"{RESULTS}/{run}" for run in batch.runs],
            run_ids=list(batch.runs),
            provenance=PLAN.batch_files(batch, "provenance"),
            study=PLAN.study_config_args(),
        log:
            runs=[f"{RESULTS}/{run}/logs/run.log" for run in batch.runs],
            batch=f"{RESULTS}/logs/{batch.name}.log",
        threads: batch.threads
        resources:
            mem_mb=batch.mem_mb,
            runtime=batch.runtime,
        conda:
            "../envs/spikeflow.yaml"
        shell:
            "spikeflow run --json {params.json:q} --config {params.configs:q} --out-dir {params.out_dirs:q} "
            "--run-id {params.run_ids:q} --log {log.runs:q} --provenance {params.provenance:q} {params.study:q} "
            "> {log.batch:q} 2>&1"
