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

from spikeflow.config import Study, dump_yaml, load_study, simulation_part
from spikeflow.models import is_builtin
from spikeflow.overrides import coerce_overrides, selected_runs
from spikeflow.resources import analysis_flags, study_resources
from spikeflow.tasks import attractors as attractors_task
from spikeflow.tasks import meanfield as meanfield_task
from spikeflow.tasks import meanfield_verdict as verdict_task
from spikeflow.tasks import memory as memory_task
from spikeflow.tasks import rates as rates_task
from spikeflow.tasks import scaling as scaling_task
from spikeflow.tasks import sequence as sequence_task
from spikeflow.tasks import validate as validate_task

#: Figures of a training run (written by ``spikeflow run`` with the run's tables), named once.
from spikeflow.models.training.outputs import FIGURES as TRAINING_FIGURES  # noqa: E402


#: Families whose runs may share a process (:meth:`Plan.batches`): one pass of the driver, no
#: extension module to load, bit-identical spikes in a batch tested (tests/workflow/test_run_groups.py).
BATCHABLE_FAMILIES = ("pd14", "clustered")
#: The ``--config`` key that asks for batches of runs (an execution choice, like ``--cores``: it is
#: taken from the command line or a profile, never from the study file).
BATCH_KEY = "batch"


@dataclass(frozen=True)
class Batch:
    """Runs of a study that one ``spikeflow run`` process makes one after another.

    Attributes:
        name: the Snakemake rule's name (``run_batch1``, ...).
        runs: the run ids, in order.
        threads: threads of every run (all equal).
        mem_mb: memory of the job, MB: the largest run's (they run one at a time).
        runtime: wall time of the job, minutes: the runs' requests added up.
    """

    name: str
    runs: tuple[str, ...]
    threads: int
    mem_mb: int
    runtime: int


@dataclass(frozen=True)
class AnalysisBatch:
    """Runs whose per-run analysis of one kind one ``spikeflow analyze KIND`` process makes, one after another.

    Attributes:
        name: the Snakemake rule's name (``analyze_rates_batch1``, ...).
        kind: the analysis, a key of :data:`PER_RUN_ANALYSES` and the ``spikeflow analyze`` subcommand.
        runs: the run ids, in order.
        flags: the command-line options, the same for every run of the batch.
    """

    name: str
    kind: str
    runs: tuple[str, ...]
    flags: tuple[str, ...]


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


#: Per-run analyses of spikes files: kind -> (the task's output names, its directory under the run,
#: report entries role -> (caption, category), the task's figures); roles without a report entry
#: are not in the report, figures are not written when ``analysis.<kind>.figures`` is false.
PER_RUN_ANALYSES: dict[str, tuple[Mapping[str, str], str, dict[str, tuple[str, str]], tuple[str, ...]]] = {
    "rates": (
        rates_task.OUTPUTS,
        "rates",
        {
            "table": ("../report/rates_table.rst", "Rates"),
            "raster": ("../report/raster.rst", "Rates"),
            "boxplot": ("../report/rates_box.rst", "Rates"),
            "reference": ("../report/rates_vs_reference.rst", "Rates"),
        },
        rates_task.FIGURES,
    ),
    "attractors": (
        attractors_task.OUTPUTS,
        "attractors",
        {
            "states": ("../report/attractors_states.rst", "Attractors"),
            "rates": ("../report/attractors_rates.rst", "Attractors"),
            "sequence": ("../report/attractors_sequence.rst", "Attractors"),
            "transitions": ("../report/attractors_transitions.rst", "Attractors"),
        },
        attractors_task.FIGURES,
    ),
}


class Plan:
    """The workflow's view of one study.

    Args:
        config: Snakemake's ``config`` (config files merged with ``--config``).
        overrides: the ``--config`` part alone (its strings are coerced to the schema's types;
            its ``batch`` key, runs per ``spikeflow run`` process, is taken out: :meth:`_batches`).
        cores: the cores Snakemake runs jobs on here (``--cores``), for ``batch=auto``; None
            where jobs go elsewhere (a cluster), which turns ``auto`` off.
        configfiles: the ``--configfile`` paths; a model file named relative to the study is
            looked for beside the last one.

    Raises:
        ConfigError: an invalid study (one sentence naming the key).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        overrides: Mapping[str, Any] | None = None,
        configfiles: Sequence[str] = (),
        cores: int | None = None,
    ) -> None:
        batch_size: int | str | None = None
        if overrides is not None and BATCH_KEY in overrides:  # `--config batch=N`: not a study key
            batch_size = parse_batch_size(overrides[BATCH_KEY])
            overrides = {k: v for k, v in overrides.items() if k != BATCH_KEY}
            config = {k: v for k, v in config.items() if k != BATCH_KEY}
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
        self.batch_size = batch_size
        self.cores = cores
        self.batches = self._batches(batch_size)
        self.batched = {run_id for batch in self.batches for run_id in batch.runs}
        self.analysis_batches = self._analysis_batches(batch_size)

    # ------------------------------------------------------------------------------ runs
    def runs_pattern(self, mpi: bool) -> str:
        """Regex of the run ids with (mpi=True) or without MPI ranks, each run in a job of its own
        (not in a batch); never matches if none."""
        ids = [run_id for run_id, run in self.runs.items() if (run.ranks > 1) == mpi and run_id not in self.batched]
        return "|".join(map(re.escape, ids)) if ids else "(?!)"

    def batchable(self) -> list[str]:
        """The runs that may share a process with others, in study order.

        Those of a built-in family of :data:`BATCHABLE_FAMILIES` without MPI ranks, when the whole
        study is made (``--config run=ID`` runs that run alone) and neither the scaling nor the
        memory analysis is on (they compare what each run cost in a process of its own).
        """
        if self.family not in BATCHABLE_FAMILIES or len(self.only_runs) < len(self.runs):
            return []
        if self.analysis["scaling"]["enabled"] or self.analysis["memory"]["enabled"]:
            return []
        return [run_id for run_id, run in self.runs.items() if run.ranks == 1]

    def _batches(self, size: int | str | None) -> list[Batch]:
        """Batches of at most ``size`` runs of equal threads (None or 1: none), of balanced sizes.

        ``size="auto"``: as many batches as runs of that many threads fit on :attr:`cores` at once
        (``cores // threads``, at least one), so that batching takes no parallelism away; none
        without ``cores``. Runs of a study are independent, so a batch only saves what is paid
        per process (Python, ``import nest``, h5py, the model's code: 0.7-1.1 s a run on the
        project's machine) and what idles between a run and its analyses, and makes the unit of
        a rerun, and of a failure, the batch.
        """
        if size == "auto" and not self.cores:
            return []
        if size != "auto" and (not size or int(size) < 2):
            return []
        by_threads: dict[int, list[str]] = {}
        for run_id in self.batchable():
            by_threads.setdefault(self.runs[run_id].threads, []).append(run_id)
        batches: list[Batch] = []
        for threads, ids in by_threads.items():
            if len(ids) < 2:
                continue
            if size == "auto":
                count = min(len(ids), max(1, int(self.cores) // threads))  # one batch per slot of the cores
            else:
                count = -(-len(ids) // int(size))  # as few batches as the size allows, sizes differing by at most one
            for k in range(count):
                part = tuple(ids[k * len(ids) // count : (k + 1) * len(ids) // count])
                if len(part) < 2:
                    continue
                batches.append(
                    Batch(
                        name=f"run_batch{len(batches) + 1}",
                        runs=part,
                        threads=threads,
                        mem_mb=max(self.resources[r]["mem_mb"] for r in part),
                        runtime=sum(self.resources[r]["runtime"] for r in part),
                    )
                )
        return batches

    def batch_outputs(self, batch: Batch) -> dict[str, Output]:
        """What a batch writes: every run's config file and outputs, named ``<output>_<index>``
        (``config_0``, ``spikes_0``, ``provenance_0``, ...)."""
        outputs = {}
        per_run = self.run_outputs()
        for i, run_id in enumerate(batch.runs):
            outputs[f"config_{i}"] = Output(f"{self.results}/{run_id}/config.yaml")
            outputs.update(_per_run(per_run, [run_id], first=i))
        return outputs

    # ---------------------------------------------------------------- per-run analyses
    def per_run_analyses(self) -> list[str]:
        """The per-run analyses of this study (kinds of :data:`PER_RUN_ANALYSES`): rates of every
        run, and the attractors of clustered runs when ``analysis.attractors`` is on."""
        kinds = ["rates"]
        if self.family == "clustered" and self.analysis["attractors"]["enabled"]:
            kinds.append("attractors")
        return kinds

    def analysis_flags(self, kind: str, run_id: str) -> list[str]:
        """The ``spikeflow analyze KIND`` options of one run, from its ``analysis.<kind>`` section."""
        return analysis_flags(self.runs[run_id], kind)

    def analysis_outputs(self, kind: str) -> dict[str, Output]:
        """What the ``kind`` analysis of one run writes (``{run}`` in the paths), by the task's roles;
        without the figures when ``analysis.<kind>.figures`` is false (the same for every run)."""
        names, sub, report, figures = PER_RUN_ANALYSES[kind]
        d = f"{self.results}/{{run}}/{sub}"
        drawn = self.analysis[kind].get("figures", True)
        return {
            role: Output(f"{d}/{name}", *report[role], "{run}") if role in report else Output(f"{d}/{name}")
            for role, name in names.items()
            if drawn or name not in figures
        }

    def analysis_log(self, kind: str) -> str:
        """The log of one run's ``kind`` analysis (``{run}`` in the path)."""
        return f"{self.results}/{{run}}/logs/analyze_{kind}.log"

    def analysis_runs_pattern(self, kind: str) -> str:
        """Regex of the run ids whose ``kind`` analysis is a job of its own (not in an analysis batch); never matches if none."""
        batched = {r for b in self.analysis_batches if b.kind == kind for r in b.runs}
        ids = [run_id for run_id in self.runs if run_id not in batched]
        return "|".join(map(re.escape, ids)) if ids else "(?!)"

    def _analysis_batches(self, size: int | str | None) -> list[AnalysisBatch]:
        """Batches of the per-run analyses of the batched runs (:attr:`batched`); none without run batches.

        A process per run analysis costs about as much as a run batch saves (Python, numpy, h5py,
        matplotlib: 0.6-0.7 s of a 1.0-1.7 s analysis on the project's machine), so when the
        runs are batched their analyses are too: per kind, the runs whose options are equal
        (:meth:`analysis_flags`) are split, in the order of the run batches, into as many
        one-core jobs as there are :attr:`cores` (so that no core idles while they run), more
        where ``batch=N`` allows at most N runs a job. A part of one run is left to the per-run
        rule.
        """
        if not self.batches:
            return []
        ordered = [run_id for batch in self.batches for run_id in batch.runs]
        jobs = max(1, int(self.cores or 1))
        batches: list[AnalysisBatch] = []
        for kind in self.per_run_analyses():
            groups: dict[tuple[str, ...], list[str]] = {}
            for run_id in ordered:
                groups.setdefault(tuple(self.analysis_flags(kind, run_id)), []).append(run_id)
            number = 0
            for flags, ids in groups.items():
                count = jobs if size == "auto" else max(jobs, -(-len(ids) // int(size)))  # type: ignore[arg-type]
                count = min(count, len(ids))
                for k in range(count):
                    part = tuple(ids[k * len(ids) // count : (k + 1) * len(ids) // count])
                    if len(part) < 2:
                        continue
                    number += 1
                    batches.append(AnalysisBatch(f"analyze_{kind}_batch{number}", kind, part, flags))
        return batches

    def analysis_batch_outputs(self, batch: AnalysisBatch) -> dict[str, Output]:
        """What an analysis batch writes: every run's outputs of its kind, named ``<role>_<index>`` (``json_0``, ...)."""
        return _per_run(self.analysis_outputs(batch.kind), batch.runs)

    def analysis_batch_files(self, batch: AnalysisBatch) -> dict[str, list[str]]:
        """Per run of an analysis batch, in order: its spikes file (``spikes``), output directory
        (``out_dirs``) and log (``logs``)."""
        json_path = self.analysis_outputs(batch.kind)["json"].path
        return {
            "spikes": self.spikes_of(batch.runs),
            "out_dirs": [str(Path(json_path.replace("{run}", r)).parent) for r in batch.runs],
            "logs": [self.analysis_log(batch.kind).replace("{run}", r) for r in batch.runs],
        }

    def batch_files(self, batch: Batch, name: str) -> list[str]:
        """The path of the run output ``name`` (a key of :meth:`run_outputs`) of every run of ``batch``, in order."""
        path = self.run_outputs()[name].path
        return [path.replace("{run}", run_id) for run_id in batch.runs]

    def mpi_runs(self) -> list[str]:
        return [run_id for run_id, run in self.runs.items() if run.ranks > 1]

    @staticmethod
    def mpi_launch(launcher: str, tasks: int, cpus_per_task: int) -> str:
        """The shell prefix of an MPI run: ``export SRUN_CPUS_PER_TASK=...; LAUNCHER -n TASKS ``.

        ``mpirun``/``mpiexec`` start their own PMIx server for the ranks; with Open MPI it tries
        the "munge" security component first and, without a munge daemon, retries for 2.6 s
        before taking "native" (measured: ``mpirun -n 2 python -c 'import nest'`` 3.67 s, with
        native 1.07 s). They get ``PMIX_MCA_psec=native`` unless it is set already; a launcher
        of the cluster's own (``srun``) is left as it is.

        Args:
            launcher: the ``mpi`` resource (``mpirun --bind-to none``, ``srun``, ...).
            tasks: MPI ranks.
            cpus_per_task: threads per rank.
        """
        program = Path(launcher.split()[0]).name if launcher.split() else ""
        psec = 'export PMIX_MCA_psec="${PMIX_MCA_psec:-native}"; ' if program in ("mpirun", "mpiexec", "orterun") else ""
        return f"export SRUN_CPUS_PER_TASK={int(cpus_per_task)}; {psec}{launcher} -n {int(tasks)} "

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
        """What one run writes (``{run}`` in the paths).

        ``spikes`` is always there, written after the model's other files, and ``provenance``
        right after it: what ``spikeflow info`` says of the spikes file (``spikeflow run
        --provenance``), in the report.
        """
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
        outputs["provenance"] = Output(f"{d}/provenance.txt", "../report/provenance.rst", "Provenance", "{run}")
        return outputs

    def spikes_of(self, run_ids: Sequence[str]) -> list[str]:
        return [f"{self.results}/{run_id}/spikes.h5" for run_id in run_ids]

    # --------------------------------------------------------------------------- targets
    def targets(self) -> list[str]:
        """What ``snakemake`` makes without a target: every run and the study-level analyses, or
        with ``--config run=ID`` only that run's own outputs."""
        runs = self.only_runs
        whole = len(runs) == len(self.runs)
        rates_json = self.analysis_outputs("rates")["json"].path
        out = [rates_json.replace("{run}", run) for run in runs]
        out += [f"{self.results}/{run}/provenance.txt" for run in runs]
        if whole and self.analysis["scaling"]["enabled"]:
            out += [f"{self.results}/scaling/{series}/{scaling_task.OUTPUTS['json']}" for series in self.series]
        if whole and self.analysis["memory"]["enabled"]:
            out.append(f"{self.results}/memory/{memory_task.OUTPUTS['json']}")
        if whole and self.analysis["validate"]["enabled"]:
            # PD14 and users' models: against a reference ensemble; clustered: against the mean field
            verdict = verdict_task.OUTPUTS["json"] if self.family == "clustered" else validate_task.OUTPUTS["json"]
            out.append(f"{self.results}/validation/{verdict}")
        return out + self.family_targets(runs, whole)

    def family_targets(self, runs: Sequence[str], whole: bool = True) -> list[str]:
        """Targets of the family's own rules for ``runs``; those across runs only for the ``whole`` study."""
        r = self.results
        out: list[str] = []
        if self.family == "clustered":
            if self.analysis["attractors"]["enabled"]:
                attractors_json = self.analysis_outputs("attractors")["json"].path
                out += [attractors_json.replace("{run}", run) for run in runs]
                if whole and len(self.runs) > 1:
                    out.append(f"{r}/attractors/{attractors_task.SUMMARY_OUTPUTS['json']}")
            if whole and self.analysis["meanfield"]["enabled"]:
                out += [f"{r}/meanfield/{name}/{meanfield_task.OUTPUTS['json']}" for name in self.meanfield_sets]
        elif self.family == "training":
            out += [f"{r}/{run}/epochs.json" for run in runs]
            out += [f"{r}/{run}/figures/{fig}.png" for run in runs for fig in TRAINING_FIGURES]
        elif self.family == "sequence":
            out += [f"{r}/{run}/sequence/{sequence_task.OUTPUTS['json']}" for run in runs]
        return out


def _per_run(outputs: Mapping[str, Output], run_ids: Sequence[str], first: int = 0) -> dict[str, Output]:
    """``outputs`` (``{run}`` in their paths) for each of ``run_ids``, named ``<name>_<index>`` from ``first`` on."""
    return {
        f"{name}_{first + i}": Output(o.path.replace("{run}", run_id), o.caption, o.category, o.subcategory.replace("{run}", run_id))
        for i, run_id in enumerate(run_ids)
        for name, o in outputs.items()
    }


def local_cores(workflow: Any) -> int | None:
    """The cores of ``--cores`` when Snakemake runs the jobs itself, on this machine; else None.

    None for a cluster executor and inside a job it submitted (where the submitting Snakemake's
    choice must be found again, and that one had no cores of its own to split).
    """
    try:
        if not workflow.local_exec or workflow.remote_exec:
            return None
        cores = workflow.global_resources["_cores"].value
    except (AttributeError, KeyError, TypeError):
        return None
    return int(cores) if cores else None


def parse_batch_size(value: Any) -> int | str | None:
    """The runs per batch of ``--config batch=N`` (N >= 1; ``auto``; ``off`` or 0: none).

    Raises:
        ConfigError: anything else, naming the key.
    """
    from spikeflow.config import ConfigError

    text = str(value).strip()
    if text.lower() in ("off", "0", "none", "null", "false", ""):
        return None
    if text.lower() == "auto":
        return "auto"
    if not re.fullmatch(r"[0-9]+", text):
        raise ConfigError(
            f"config key '{BATCH_KEY}' is {value!r}; give the number of runs per batch (e.g. --config batch=20), auto or off"
        )
    return int(text)


# ------------------------------------------------------------------------------ run configs
def resolved_run_yaml(config: Mapping[str, Any], run_id: str | None = None) -> str:
    """One run's resolved config as YAML text: what ``spikeflow resolve`` writes.

    Args:
        config: a study config mapping (also a run's resolved config, which resolves to itself).
        run_id: the run of a swept study (None: its only run).

    Raises:
        ConfigError: an invalid config, or no ``run_id`` for a study with several runs.
    """
    return dump_yaml(simulation_part(load_study(config).select(run_id).config))
