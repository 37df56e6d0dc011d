# Analyses read spikes files, never NEST.


rule provenance:
    input:
        f"{RESULTS}/{{run}}/spikes.h5",
    output:
        report(f"{RESULTS}/{{run}}/provenance.txt", caption="../report/provenance.rst", category="Provenance", subcategory="{run}"),
    log:
        f"{RESULTS}/{{run}}/logs/provenance.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow info {input:q} --out {output:q} > {log:q} 2>&1"


rule analyze_rates:
    input:
        f"{RESULTS}/{{run}}/spikes.h5",
    output:
        json=f"{RESULTS}/{{run}}/rates/rates.json",
        table=report(
            f"{RESULTS}/{{run}}/rates/rates.csv",
            caption="../report/rates_table.rst",
            category="Rates",
            subcategory="{run}",
        ),
        raster=report(
            f"{RESULTS}/{{run}}/rates/raster.png",
            caption="../report/raster.rst",
            category="Rates",
            subcategory="{run}",
        ),
        boxplot=report(
            f"{RESULTS}/{{run}}/rates/rate_boxplot.png",
            caption="../report/rates_box.rst",
            category="Rates",
            subcategory="{run}",
        ),
        reference=report(
            f"{RESULTS}/{{run}}/rates/rates_vs_reference.png",
            caption="../report/rates_vs_reference.rst",
            category="Rates",
            subcategory="{run}",
        ),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
        flags=lambda wildcards: rates_flags(RUNS[wildcards.run]),
    log:
        f"{RESULTS}/{{run}}/logs/analyze_rates.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze rates {input:q} --out-dir {params.out_dir:q} {params.flags:q} > {log:q} 2>&1"


rule analyze_scaling:
    input:
        lambda wildcards: PLAN.spikes_of(SERIES[wildcards.series]),
    output:
        json=f"{RESULTS}/scaling/{{series}}/scaling.json",
        table=report(
            f"{RESULTS}/scaling/{{series}}/scaling.csv",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
        phases=report(
            f"{RESULTS}/scaling/{{series}}/scaling_phases.png",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
        rtf=report(
            f"{RESULTS}/scaling/{{series}}/scaling_rtf.png",
            caption="../report/scaling.rst",
            category="Scaling",
            subcategory="{series}",
        ),
        efficiency=report(
            f"{RESULTS}/scaling/{{series}}/scaling_efficiency.png",
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
        json=f"{RESULTS}/memory/memory.json",
        model=f"{RESULTS}/memory/memory_model.json",
        table=report(
            f"{RESULTS}/memory/memory_prediction.csv",
            caption="../report/memory.rst",
            category="Memory",
        ),
        figure=report(
            f"{RESULTS}/memory/memory.png",
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
        json=f"{RESULTS}/validation/validation.json",
        summary=report(f"{RESULTS}/validation/validation.txt", caption="../report/validation.rst", category="Validation"),
        table=report(f"{RESULTS}/validation/validation.csv", caption="../report/validation.rst", category="Validation"),
        figure=report(f"{RESULTS}/validation/validation.png", caption="../report/validation.rst", category="Validation"),
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
