# Analyses read spikes files, never NEST. Their output file names are defined once, in the task
# modules (spikeflow.tasks.<kind>.OUTPUTS).
from spikeflow.tasks import memory as memory_task
from spikeflow.tasks import rates as rates_task
from spikeflow.tasks import scaling as scaling_task
from spikeflow.tasks import validate as validate_task


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
        json=f"{RESULTS}/{{run}}/rates/{rates_task.OUTPUTS['json']}",
        table=report(
            f"{RESULTS}/{{run}}/rates/{rates_task.OUTPUTS['table']}",
            caption="../report/rates_table.rst",
            category="Rates",
            subcategory="{run}",
        ),
        raster=report(
            f"{RESULTS}/{{run}}/rates/{rates_task.OUTPUTS['raster']}",
            caption="../report/raster.rst",
            category="Rates",
            subcategory="{run}",
        ),
        boxplot=report(
            f"{RESULTS}/{{run}}/rates/{rates_task.OUTPUTS['boxplot']}",
            caption="../report/rates_box.rst",
            category="Rates",
            subcategory="{run}",
        ),
        reference=report(
            f"{RESULTS}/{{run}}/rates/{rates_task.OUTPUTS['reference']}",
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
