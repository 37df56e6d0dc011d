# Sequence learning (Klampfl & Maass 2013): build the C++ NEST extension module once (an input of
# the run rule for this family), then decode the patterns of each run before and after training
# and draw the figures.
# Output file names: spikeflow.tasks.sequence.OUTPUTS.
from spikeflow.tasks import sequence as sequence_task


rule build_nestext:
    output:
        f"{RESULTS}/nestext/module_path.txt",
    log:
        f"{RESULTS}/logs/build_nestext.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow build-ext --out {output:q} > {log:q} 2>&1"


rule sequence_analyze:
    input:
        spikes=f"{RESULTS}/{{run}}/spikes.h5",
        side=f"{RESULTS}/{{run}}/sequence.npz",
    output:
        json=f"{RESULTS}/{{run}}/sequence/{sequence_task.OUTPUTS['json']}",
        grid=report(f"{RESULTS}/{{run}}/sequence/{sequence_task.OUTPUTS['grid']}", caption="../report/sequence_grid.rst", category="Sequence learning", subcategory="{run}"),
        raster=report(f"{RESULTS}/{{run}}/sequence/{sequence_task.OUTPUTS['raster']}", caption="../report/sequence_raster.rst", category="Sequence learning", subcategory="{run}"),
        raster_before=report(f"{RESULTS}/{{run}}/sequence/{sequence_task.OUTPUTS['raster_before']}", caption="../report/sequence_raster.rst", category="Sequence learning", subcategory="{run}"),
        decoding=report(f"{RESULTS}/{{run}}/sequence/{sequence_task.OUTPUTS['decoding']}", caption="../report/sequence_decoding.rst", category="Sequence learning", subcategory="{run}"),
        weights=report(f"{RESULTS}/{{run}}/sequence/{sequence_task.OUTPUTS['weights']}", caption="../report/sequence_weights.rst", category="Sequence learning", subcategory="{run}"),
    params:
        out_dir=lambda wildcards, output: os.path.dirname(output.json),
    log:
        f"{RESULTS}/{{run}}/logs/sequence_analyze.log",
    conda:
        "../envs/spikeflow.yaml"
    shell:
        "spikeflow analyze sequence {input.spikes:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"
