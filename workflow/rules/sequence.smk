# Sequence learning (Klampfl & Maass 2013): build the C++ NEST extension module once, run each
# run with the family's own driver (`spikeflow sequence`: test, train, test), then decode the
# patterns before and after training and draw the figures.


rule build_nestext:
    output:
        f"{RESULTS}/nestext/module_path.txt",
    log:
        f"{RESULTS}/logs/build_nestext.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow build-ext > {output:q} 2> {log:q}"


rule sequence_run:
    wildcard_constraints:
        run=runs_pattern(mpi=False, driver="sequence"),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
        module=f"{RESULTS}/nestext/module_path.txt",
    output:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
        side=f"{RESULTS}/{{run}}/sequence.npz",
    log:
        f"{RESULTS}/{{run}}/logs/sequence.log",
    threads: lambda wildcards: RUNS[wildcards.run].threads
    resources:
        mem_mb=lambda wildcards: RESOURCES[wildcards.run]["mem_mb"],
        runtime=lambda wildcards: RESOURCES[wildcards.run]["runtime"],
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow sequence --config {input.config:q} --out {output.spikes:q} --run-id {wildcards.run:q} > {log:q} 2>&1"


rule sequence_run_mpi:
    wildcard_constraints:
        run=runs_pattern(mpi=True, driver="sequence"),
    input:
        config=f"{RESULTS}/{{run}}/config.yaml",
        module=f"{RESULTS}/nestext/module_path.txt",
    output:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
        side=f"{RESULTS}/{{run}}/sequence.npz",
    log:
        f"{RESULTS}/{{run}}/logs/sequence.log",
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
        "{resources.mpi} -n {resources.tasks} spikeflow sequence --config {input.config:q} "
        "--out {output.spikes:q} --run-id {wildcards.run:q} > {log:q} 2>&1"


rule sequence_analyze:
    input:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
        side=f"{RESULTS}/{{run}}/sequence.npz",
    output:
        json=f"{RESULTS}/{{run}}/sequence/decoding.json",
        grid=report(f"{RESULTS}/{{run}}/sequence/grid.png", caption="../report/sequence_grid.rst", category="Sequence learning", subcategory="{run}"),
        raster=report(f"{RESULTS}/{{run}}/sequence/raster_test_after.png", caption="../report/sequence_raster.rst", category="Sequence learning", subcategory="{run}"),
        raster_before=report(f"{RESULTS}/{{run}}/sequence/raster_test_before.png", caption="../report/sequence_raster.rst", category="Sequence learning", subcategory="{run}"),
        decoding=report(f"{RESULTS}/{{run}}/sequence/decoding.png", caption="../report/sequence_decoding.rst", category="Sequence learning", subcategory="{run}"),
        weights=report(f"{RESULTS}/{{run}}/sequence/weights.png", caption="../report/sequence_weights.rst", category="Sequence learning", subcategory="{run}"),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
    log:
        f"{RESULTS}/{{run}}/logs/sequence_analyze.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow sequence-analyze --spikes {input.spikes:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"
