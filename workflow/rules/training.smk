# Training runs (model: training): `spikeflow train` trains each run epoch by epoch, checkpoints
# after every epoch and writes spikes.h5 (standard layout, so analyze_rates applies), the
# per-epoch tables and the figures. `train` serves single-rank runs, `train_mpi` runs with
# simulation.ranks > 1 (the `mpi` resource names the launcher). A killed job resumes from its
# latest checkpoint when rerun (--resume).

from spikeflow.training.config import check_training_run

if DRIVER == "train":
    for _run in RUNS.values():
        try:
            check_training_run(_run.config)
        except ConfigError as err:
            raise WorkflowError(f"invalid config: run {_run.run_id}: {err}") from None


TRAINING_FIGURES = ("weights_over_epochs", "rates_over_epochs", "weight_change")


def training_outputs():
    if DRIVER != "train":
        return []
    return expand(f"{RESULTS}/{{run}}/epochs.json", run=RUNS) + expand(
        f"{RESULTS}/{{run}}/figures/{{figure}}.png", run=RUNS, figure=TRAINING_FIGURES
    )


FAMILY_OUTPUTS.append(training_outputs)


def _training_outputs(run_dir):
    return dict(
        spikes=f"{run_dir}/spikes.h5",
        epochs_json=f"{run_dir}/epochs.json",
        epochs_h5=f"{run_dir}/epochs.h5",
        epochs_csv=report(
            f"{run_dir}/epochs.csv",
            caption="../report/training_epochs.rst",
            category="Training",
            subcategory="{run}",
        ),
        weights=report(
            f"{run_dir}/figures/weights_over_epochs.png",
            caption="../report/training_weights.rst",
            category="Training",
            subcategory="{run}",
        ),
        rates=report(
            f"{run_dir}/figures/rates_over_epochs.png",
            caption="../report/training_rates.rst",
            category="Training",
            subcategory="{run}",
        ),
        change=report(
            f"{run_dir}/figures/weight_change.png",
            caption="../report/training_change.rst",
            category="Training",
            subcategory="{run}",
        ),
    )


rule train:
    wildcard_constraints:
        run=runs_pattern(mpi=False, driver="train"),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        **_training_outputs(f"{RESULTS}/{{run}}"),
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
        "spikeflow train --config {input.config} --out-dir {params.out_dir} --run-id {wildcards.run} --resume 2>&1 | tee {log}"


rule train_mpi:
    wildcard_constraints:
        run=runs_pattern(mpi=True, driver="train"),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
    output:
        **_training_outputs(f"{RESULTS}/{{run}}"),
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
        "{resources.mpi} -n {resources.tasks} spikeflow train --config {input.config} "
        "--out-dir {params.out_dir} --run-id {wildcards.run} --resume 2>&1 | tee {log}"
