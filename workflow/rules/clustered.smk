# Clustered E/I networks: attractor analysis of every run, a study summary over repeats and
# sweep values (the J+ sweep's metastability figure), and the mean field of every distinct network
# (runs that differ only in seed or threads share one: MEANFIELD_SETS in common.smk).
# With analysis.validate the study ends in a verdict: every run (at J+ = 1) against its mean field.
# Output file names: spikeflow.tasks.attractors.OUTPUTS / SUMMARY_OUTPUTS, spikeflow.tasks.meanfield.OUTPUTS,
# spikeflow.tasks.meanfield_verdict.OUTPUTS.
from spikeflow.tasks import attractors as attractors_task
from spikeflow.tasks import meanfield as meanfield_task
from spikeflow.tasks import meanfield_verdict as meanfield_verdict_task


rule analyze_attractors:
    wildcard_constraints:
        run=PLAN.analysis_runs_pattern("attractors"),  # not the runs of an analysis batch (analysis.smk)
    input:
        f"{RESULTS}/{{run}}/spikes.h5",
    output:
        **as_outputs(PLAN.analysis_outputs("attractors")),  # json, h5, states, rates, sequence, transitions
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        flags=lambda wildcards: PLAN.analysis_flags("attractors", wildcards.run),
    log:
        PLAN.analysis_log("attractors"),
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze attractors {input:q} --out-dir {params.out_dir:q} {params.flags:q} > {log:q} 2>&1"


rule attractor_summary:
    input:
        expand(f"{RESULTS}/{{run}}/attractors/{attractors_task.OUTPUTS['json']}", run=RUNS),
    output:
        json=f"{RESULTS}/attractors/{attractors_task.SUMMARY_OUTPUTS['json']}",
        table=report(f"{RESULTS}/attractors/{attractors_task.SUMMARY_OUTPUTS['table']}", caption="../report/attractors_summary.rst", category="Attractors"),
        figure=report(
            f"{RESULTS}/attractors/{attractors_task.SUMMARY_OUTPUTS['figure']}", caption="../report/attractors_summary.rst", category="Attractors"
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        group_by=group_by_flags(ANALYSIS["attractors"]["group_by"]),
    log:
        f"{RESULTS}/logs/attractor_summary.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze attractor-summary {input:q} --out-dir {params.out_dir:q} {params.group_by:q} > {log:q} 2>&1"


rule meanfield:
    input:
        config=lambda wildcards: f"{RESULTS}/{MEANFIELD_SETS[wildcards.mfset]}/config.yaml",
    output:
        json=f"{RESULTS}/meanfield/{{mfset}}/{meanfield_task.OUTPUTS['json']}",
        h5=f"{RESULTS}/meanfield/{{mfset}}/{meanfield_task.OUTPUTS['h5']}",
        table=report(
            f"{RESULTS}/meanfield/{{mfset}}/{meanfield_task.OUTPUTS['table']}",
            caption="../report/meanfield_table.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
        states=report(
            f"{RESULTS}/meanfield/{{mfset}}/{meanfield_task.OUTPUTS['states']}",
            caption="../report/meanfield_states.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
        spectra=report(
            f"{RESULTS}/meanfield/{{mfset}}/{meanfield_task.OUTPUTS['spectra']}",
            caption="../report/meanfield_spectra.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
        landscape=report(
            f"{RESULTS}/meanfield/{{mfset}}/{meanfield_task.OUTPUTS['landscape']}",
            caption="../report/meanfield_landscape.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        flags=lambda wildcards: analysis_flags(RUNS[MEANFIELD_SETS[wildcards.mfset]], "meanfield"),
    log:
        f"{RESULTS}/logs/meanfield_{{mfset}}.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze meanfield {input.config:q} --out-dir {params.out_dir:q} {params.flags:q} > {log:q} 2>&1"


rule analyze_meanfield_verdict:
    input:
        PLAN.spikes_of(RUNS),
    output:
        json=f"{RESULTS}/validation/{meanfield_verdict_task.OUTPUTS['json']}",
        summary=report(
            f"{RESULTS}/validation/{meanfield_verdict_task.OUTPUTS['summary']}",
            caption="../report/meanfield_verdict.rst",
            category="Validation",
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        tolerance=ANALYSIS["validate"]["tolerance"],
    log:
        f"{RESULTS}/logs/analyze_meanfield_verdict.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze meanfield-verdict {input:q} --tolerance {params.tolerance:q} "
        "--out-dir {params.out_dir:q} > {log:q} 2>&1"
