# Clustered E/I networks: attractor analysis of every run, a study summary over repeats and
# sweep values (the J+ sweep's metastability figure), and the mean field of every distinct network
# (runs that differ only in seed or threads share one: MEANFIELD_SETS in common.smk).


rule analyze_attractors:
    input:
        f"{RESULTS}/{{run}}/spikes.h5",
    output:
        json=f"{RESULTS}/{{run}}/attractors/attractors.json",
        h5=f"{RESULTS}/{{run}}/attractors/attractors.h5",
        states=report(
            f"{RESULTS}/{{run}}/attractors/states.csv",
            caption="../report/attractors_states.rst",
            category="Attractors",
            subcategory="{run}",
        ),
        rates=report(
            f"{RESULTS}/{{run}}/attractors/cluster_rates.png",
            caption="../report/attractors_rates.rst",
            category="Attractors",
            subcategory="{run}",
        ),
        sequence=report(
            f"{RESULTS}/{{run}}/attractors/state_sequence.png",
            caption="../report/attractors_sequence.rst",
            category="Attractors",
            subcategory="{run}",
        ),
        transitions=report(
            f"{RESULTS}/{{run}}/attractors/transition_matrix.png",
            caption="../report/attractors_transitions.rst",
            category="Attractors",
            subcategory="{run}",
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        flags=lambda wildcards: analysis_flags(RUNS[wildcards.run], "attractors"),
    log:
        f"{RESULTS}/{{run}}/logs/analyze_attractors.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze attractors {input:q} --out-dir {params.out_dir:q} {params.flags:q} > {log:q} 2>&1"


rule attractor_summary:
    input:
        expand(f"{RESULTS}/{{run}}/attractors/attractors.json", run=RUNS),
    output:
        json=f"{RESULTS}/attractors/summary.json",
        table=report(f"{RESULTS}/attractors/summary.csv", caption="../report/attractors_summary.rst", category="Attractors"),
        figure=report(
            f"{RESULTS}/attractors/metastability.png", caption="../report/attractors_summary.rst", category="Attractors"
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
        json=f"{RESULTS}/meanfield/{{mfset}}/meanfield.json",
        h5=f"{RESULTS}/meanfield/{{mfset}}/meanfield.h5",
        table=report(
            f"{RESULTS}/meanfield/{{mfset}}/fixed_points.csv",
            caption="../report/meanfield_table.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
        states=report(
            f"{RESULTS}/meanfield/{{mfset}}/meanfield_states.png",
            caption="../report/meanfield_states.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
        spectra=report(
            f"{RESULTS}/meanfield/{{mfset}}/meanfield_spectra.png",
            caption="../report/meanfield_spectra.rst",
            category="Mean field",
            subcategory="{mfset}",
        ),
        landscape=report(
            f"{RESULTS}/meanfield/{{mfset}}/meanfield_landscape.png",
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
