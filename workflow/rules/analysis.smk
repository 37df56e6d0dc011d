# Analyses read spikes files, never NEST.


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
        "spikeflow analyze rates {input} --out-dir {params.out_dir} {params.flags} > {log} 2>&1"
