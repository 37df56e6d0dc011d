# Analyses read spikes files, never NEST. Their output file names are defined once, in the task
# modules (spikeflow.tasks.<kind>.OUTPUTS). A run's provenance.txt is written by its run job
# (workflow/rules/run.smk), in the report as an output of that rule.
from spikeflow.tasks import memory as memory_task
from spikeflow.tasks import scaling as scaling_task
from spikeflow.tasks import validate as validate_task


rule analyze_rates:
    wildcard_constraints:
        run=PLAN.analysis_runs_pattern("rates"),  # not the runs of an analysis batch (below)
    input:
        f"{RESULTS}/{{run}}/spikes.h5",
    output:
        **as_outputs(PLAN.analysis_outputs("rates")),  # json, table, raster, boxplot, reference
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        flags=lambda wildcards: PLAN.analysis_flags("rates", wildcards.run),
    log:
        PLAN.analysis_log("rates"),
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze rates {input:q} --out-dir {params.out_dir:q} {params.flags:q} > {log:q} 2>&1"


# Analysis batches (with run batches, `--config batch=...`): the per-run analyses of one kind (rates,
# attractors) of several runs one after another in one `spikeflow analyze KIND` process, which loads
# numpy, h5py and matplotlib once; the same files as the per-run rules (analyze_rates,
# analyze_attractors). Which runs, and how many jobs (one core each), is decided in
# spikeflow.plan.Plan.analysis_batches.
for abatch in PLAN.analysis_batches:
    abatch_files = PLAN.analysis_batch_files(abatch)

    rule:
        name:
            abatch.name
        input:
            abatch_files["spikes"],
        output:
            **as_outputs(PLAN.analysis_batch_outputs(abatch)),
        params:
            kind=abatch.kind,
            out_dirs=abatch_files["out_dirs"],
            flags=list(abatch.flags),
        log:
            runs=abatch_files["logs"],
            batch=f"{RESULTS}/logs/{abatch.name}.log",
        conda:
            "../envs/spikeflow.yaml"
        shell:
            "spikeflow analyze {params.kind} {input:q} --out-dir {params.out_dirs:q} --log {log.runs:q} "
            "{params.flags:q} > {log.batch:q} 2>&1"


rule analyze_scaling:
    input:
        lambda wildcards: PLAN.spikes_of(SERIES[wildcards.series]),
    output:
        json=f"{RESULTS}/scaling/{{series}}/{scaling_task.OUTPUTS['json']}",
        table=report(
            f"{RESULTS}/scaling/{{series}}/{scaling_task.OUTPUTS['table']}",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
        phases=report(
            f"{RESULTS}/scaling/{{series}}/{scaling_task.OUTPUTS['phases']}",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
        rtf=report(
            f"{RESULTS}/scaling/{{series}}/{scaling_task.OUTPUTS['rtf']}",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
        efficiency=report(
            f"{RESULTS}/scaling/{{series}}/{scaling_task.OUTPUTS['efficiency']}",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
    log:
        f"{RESULTS}/logs/analyze_scaling_{{series}}.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze scaling {input:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"


rule analyze_memory:
    input:
        PLAN.spikes_of(RUNS),
    output:
        json=f"{RESULTS}/memory/{memory_task.OUTPUTS['json']}",
        model=f"{RESULTS}/memory/{memory_task.OUTPUTS['model']}",
        table=report(
            f"{RESULTS}/memory/{memory_task.OUTPUTS['table']}",
            caption="../report/memory.rst",
            category="Memory",
        ),
        figure=report(
            f"{RESULTS}/memory/{memory_task.OUTPUTS['figure']}",
            caption="../report/memory.rst",
            category="Memory",
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
    log:
        f"{RESULTS}/logs/analyze_memory.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze memory {input:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"


rule analyze_validate:
    input:
        PLAN.spikes_of(RUNS),
    output:
        json=f"{RESULTS}/validation/{validate_task.OUTPUTS['json']}",
        summary=report(f"{RESULTS}/validation/{validate_task.OUTPUTS['summary']}", caption="../report/validation.rst", category="Validation"),
        table=report(f"{RESULTS}/validation/{validate_task.OUTPUTS['table']}", caption="../report/validation.rst", category="Validation"),
        figure=report(f"{RESULTS}/validation/{validate_task.OUTPUTS['figure']}", caption="../report/validation.rst", category="Validation"),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        reference=ANALYSIS["validate"]["reference"],
        factor=ANALYSIS["validate"]["factor"],
    log:
        f"{RESULTS}/logs/analyze_validate.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze validate {input:q} --reference {params.reference:q} --factor {params.factor:q} "
        "--out-dir {params.out_dir:q} > {log:q} 2>&1"
