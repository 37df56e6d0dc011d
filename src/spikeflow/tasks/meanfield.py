"""``spikeflow analyze meanfield CONFIG --out-dir DIR``: the mean field of one run of a clustered-network config.

CONFIG is a study config or a run config (YAML). Its run (``run_id`` when the study has
several) is resolved with :func:`spikeflow.config.load_study`; the run's full ``params`` go to
:func:`spikeflow.meanfield.study.meanfield_study`, with options defaulting from the config's
``analysis.meanfield`` section (``n_init``, ``seed``, ``max_init_rate``, ``landscape``;
``enabled`` only decides whether the workflow runs it; :func:`study_options`). Writes
:data:`OUTPUTS`, each atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from spikeflow.tasks import output_dir, outputs

__all__ = ["OUTPUTS", "FIGURES", "study_options", "run"]

#: What the mean-field study writes into its directory (role -> file name).
OUTPUTS = outputs(
    json="meanfield.json",
    h5="meanfield.h5",
    table="fixed_points.csv",
    states="meanfield_states.png",
    spectra="meanfield_spectra.png",
    landscape="meanfield_landscape.png",
)
#: The figures among :data:`OUTPUTS`, by the keys of :func:`spikeflow.plots.meanfield.plot_meanfield`.
FIGURES = ("states", "spectra", "landscape")


def study_options(section: Mapping[str, Any] | None, **given: Any) -> dict[str, Any]:
    """Keyword arguments of :func:`~spikeflow.meanfield.study.meanfield_study`: given values over the config's.

    Args:
        section: the run's ``analysis.meanfield`` section (defaults filled in), or None.
        **given: values given on the command line (None: not given): ``n_init``, ``seed``,
            ``max_init_rate`` (Hz), ``landscape`` (bool), ``focus`` (e.g. ``"E0,E1"``),
            ``landscape_step`` (Hz).

    Returns:
        ``n_init``, ``seed``, ``max_init_rate``, ``landscape`` and, when given, ``focus``
        and ``landscape_step``.

    Raises:
        ValueError: ``n_init < 0``, ``max_init_rate <= 0`` or ``landscape_step <= 0`` (the
            message names the command-line option).
    """
    section = dict(section or {})

    def pick(key: str, default: Any) -> Any:
        return given[key] if given.get(key) is not None else section.get(key, default)

    options: dict[str, Any] = {
        "n_init": int(pick("n_init", 50)),
        "seed": int(pick("seed", 1)),
        "max_init_rate": float(pick("max_init_rate", 50.0)),
        "landscape": bool(pick("landscape", True)),
    }
    if given.get("focus"):
        options["focus"] = given["focus"]
    if given.get("landscape_step") is not None:
        options["landscape_step"] = given["landscape_step"]
    if options["n_init"] < 0:
        raise ValueError(f"--n-init must be >= 0, got {options['n_init']}")
    if not options["max_init_rate"] > 0:
        raise ValueError(f"--max-init-rate must be > 0, got {options['max_init_rate']}")
    if "landscape_step" in options and not options["landscape_step"] > 0:
        raise ValueError(f"--landscape-step must be > 0, got {options['landscape_step']}")
    return options


def run(
    config_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    run_id: str | None = None,
    figures: bool = True,
    **given: Any,
) -> dict[str, Any]:
    """The mean-field study of one run of a clustered config, written into ``out_dir``.

    Writes ``meanfield.json`` (settings, states, fixed points, landscape summary;
    :func:`spikeflow.meanfield.study.meanfield_document`), ``fixed_points.csv`` (one row per
    fixed point up to cluster permutation, all population rates), ``meanfield.h5`` (all arrays,
    :func:`spikeflow.io.meanfield.write_meanfield_h5`) and, if ``figures``, the three figures
    (:func:`spikeflow.plots.meanfield.plot_meanfield`).

    Args:
        config_path: a study or run config (YAML) of the clustered model.
        out_dir: the output directory.
        run_id: which run of a study with several (see ``spikeflow validate``).
        figures: also draw the figures.
        **given: options over the config's ``analysis.meanfield`` (:func:`study_options`).

    Returns:
        The study (:func:`spikeflow.meanfield.study.meanfield_study`).

    Raises:
        ConfigError: a config of another model, an ambiguous run, or a bad option.
    """
    from spikeflow.config import ConfigError, load_study, load_yaml

    raw = load_yaml(config_path)
    if raw.get("model") != "clustered":
        raise ConfigError(f"{config_path}: the mean field is available for model clustered, not {raw.get('model')!r}")
    cfg = load_study(raw).select(run_id).config

    from spikeflow.io.meanfield import write_meanfield_h5
    from spikeflow.io.tables import write_csv, write_json
    from spikeflow.meanfield.study import fixed_point_table, meanfield_document, meanfield_study

    try:
        options = study_options(cfg.get("analysis", {}).get("meanfield", {}), **given)
        result = meanfield_study(cfg["params"], **options)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    out = output_dir(out_dir)
    write_json(out / OUTPUTS["json"], meanfield_document(result))
    write_csv(out / OUTPUTS["table"], *fixed_point_table(result))
    write_meanfield_h5(result, out / OUTPUTS["h5"])
    if figures:
        from spikeflow.plots.meanfield import plot_meanfield  # matplotlib only when drawing

        plot_meanfield(result, {name: out / OUTPUTS[name] for name in FIGURES})
    return result
