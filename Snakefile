# spikeflow workflow: study config -> one NEST simulation per run -> spikes.h5 -> analyses -> report.
#
#   snakemake --cores all                                     # the default study (workflow/config/default.yaml)
#   snakemake --cores all --configfile workflow/config/X.yaml # another study (replaces the default entirely)
#   snakemake --report results/report.html                    # HTML report of what has been run
#
# Rules only call the `spikeflow` CLI; all model and analysis logic lives in src/spikeflow.

from snakemake.utils import min_version

min_version("9.19")


# No study given: the embedded laptop default. A --configfile without `model` is not merged into
# it (it is refused, naming the missing key).
if "model" not in config and not getattr(getattr(workflow, "config_settings", None), "configfiles", None):

    configfile: "workflow/config/default.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/run.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/clustered.smk"
include: "workflow/rules/sequence.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        PLAN.targets(),
