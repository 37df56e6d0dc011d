"""What the Snakemake workflow makes of a study: runs, resources, the run rule's outputs, the targets.

The ``.smk`` files keep only rules; every decision that depends on the study or its model family
(which files a run writes, which analyses follow, which runs need MPI) is made here, in plain
Python that the unit tests exercise without Snakemake. ``workflow/rules/common.smk`` builds one
:class:`Plan` from Snakemake's ``config`` and reads everything from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from spikeflow.config import Study, load_study, simulation_part
from spikeflow.models import is_builtin
from spikeflow.overrides import coerce_overrides, selected_runs
from spikeflow.resources import study_resources

#: Figures of a training run (written by ``spikeflow run`` with the run's tables), named once.
from spikeflow.models.training.outputs import FIGURES as TRAINING_FIGURES  # noqa: E402


@dataclass(frozen=True)
class Output:
    """One output file of a rule; with a caption it goes into the HTML report.

    Attributes:
        path: file path, may hold ``{run}``.
        caption: report caption file (relative to ``workflow/rules/``), or "" for none.
        category, subcategory: where the report files it.
    """

    path: str
    caption: str = ""
    category: str = ""
    subcategory: str = ""


class Plan:
    """The workflow's view of one study.

    Args:
        config: Snakemake's ``config`` (config files merged with ``--config``).
        overrides: the ``--config`` part alone (its strings are coerced to the schema's types).
        configfiles: the ``--configfile`` paths; a model file named relative to the study is
            looked for beside the last one.

    Raises:
        ConfigError: an invalid study (one sentence naming the key).
    """

    def __init__(self, config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, configfiles: Sequence[str] = ()) -> None:
        self.config = coerce_overrides(config, overrides)
        self.configfiles = [str(c) for c in configfiles]
        base_dir = Path(configfiles[-1]).parent if configfiles else None
        self.study: Study = load_study(self.config, base_dir=base_dir)
        self.runs = {run.run_id: run for run in self.study.runs}
        self.only_runs = selected_runs(list(self.runs), self.study.name, self.config.get("run"))
        self.resources = study_resources(self.study)  # run id -> mem_mb, runtime; refuses runs that cannot fit
        self.results = f"results/{self.study.name}"
        self.series = self.study.series()
        self.meanfield_sets = self.study.network_sets("meanfield")  # runs differing only in seed share one
        first = self.study.runs[0].config
        self.analysis = first["analysis"]  # study-level analyses use the first run's options
        self.model = first["model"]
        self.family = self.model if is_builtin(self.model) else "user"

    # ------------------------------------------------------------------------------ runs
    def runs_pattern(self, mpi: bool) -> str:
        """Regex of the run ids with (mpi=True) or without MPI ranks; never matches if none."""
        ids = [run_id for run_id, run in self.runs.items() if (run.ranks > 1) == mpi]
        return "|".join(map(re.escape, ids)) if ids else "(?!)"

    def mpi_runs(self) -> list[str]:
        return [run_id for run_id, run in self.runs.items() if run.ranks > 1]

    def run_config_json(self, run_id: str) -> str:
        """The run's resolved config as JSON: a change to it (and only to it) reruns the run."""
        return json.dumps(simulation_part(self.runs[run_id].config))

    def model_files(self) -> list[str]:
        """The user's model file (a change to it reruns every run), or nothing for a built-in family."""
        path = self.model.split(":")[0]
        return [path] if path.endswith(".py") else []

    def study_config_args(self) -> list[str]:
        """``["--study-config", PATH]`` of the study's config file (provenance), or nothing without one."""
        return ["--study-config", self.configfiles[-1]] if self.configfiles else []

    def run_inputs(self) -> dict[str, str]:
        """Inputs of the run rule beyond the run's config (the sequence family's extension module)."""
        if self.family == "sequence":
            return {"module": f"{self.results}/nestext/module_path.txt"}
        return {}

    def run_outputs(self) -> dict[str, Output]:
        """What one run writes (``{run}`` in the paths); ``spikes`` (written last) is always there."""
        d = f"{self.results}/{{run}}"
        outputs = {}
        if self.family == "sequence":
            outputs["side"] = Output(f"{d}/sequence.npz")
        elif self.family == "training":
            report = dict(category="Training", subcategory="{run}")
            outputs.update(
                epochs_json=Output(f"{d}/epochs.json"),
                epochs_h5=Output(f"{d}/epochs.h5"),
                epochs_csv=Output(f"{d}/epochs.csv", "../report/training_epochs.rst", **report),
            )
            captions = {"weights_over_epochs": "weights", "rates_over_epochs": "rates", "weight_change": "change"}
            for name in TRAINING_FIGURES:
                outputs[captions[name]] = Output(f"{d}/figures/{name}.png", f"../report/training_{captions[name]}.rst", **report)
        outputs["spikes"] = Output(f"{d}/spikes.h5")
        return outputs

    def spikes_of(self, run_ids: Sequence[str]) -> list[str]:
        return [f"{self.results}/{run_id}/spikes.h5" for run_id in run_ids]

    # --------------------------------------------------------------------------- targets
    def targets(self) -> list[str]:
        """What ``snakemake`` makes without a target: every run and the study-level analyses, or
        with ``--config run=ID`` only that run's own outputs."""
        runs = self.only_runs
        whole = len(runs) == len(self.runs)
        out = [f"{self.results}/{run}/rates/rates.json" for run in runs]
        out += [f"{self.results}/{run}/provenance.txt" for run in runs]
        if whole and self.analysis["scaling"]["enabled"]:
            out += [f"{self.results}/scaling/{series}/scaling.json" for series in self.series]
        if whole and self.analysis["memory"]["enabled"]:
            out.append(f"{self.results}/memory/memory.json")
        if whole and self.analysis["validate"]["enabled"]:
            out.append(f"{self.results}/validation/validation.json")
        return out + self.family_targets(runs, whole)

    def family_targets(self, runs: Sequence[str], whole: bool = True) -> list[str]:
        """Targets of the family's own rules for ``runs``; those across runs only for the ``whole`` study."""
        r = self.results
        out: list[str] = []
        if self.family == "clustered":
            if self.analysis["attractors"]["enabled"]:
                out += [f"{r}/{run}/attractors/attractors.json" for run in runs]
                if whole and len(self.runs) > 1:
                    out.append(f"{r}/attractors/summary.json")
            if whole and self.analysis["meanfield"]["enabled"]:
                out += [f"{r}/meanfield/{name}/meanfield.json" for name in self.meanfield_sets]
        elif self.family == "training":
            out += [f"{r}/{run}/epochs.json" for run in runs]
            out += [f"{r}/{run}/figures/{fig}.png" for run in runs for fig in TRAINING_FIGURES]
        elif self.family == "sequence":
            out += [f"{r}/{run}/sequence/decoding.json" for run in runs]
        return out
