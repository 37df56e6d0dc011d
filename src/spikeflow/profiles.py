"""The shipped Snakemake profiles (``cluster_profiles/slurm``, ``cluster_profiles/local``) under
their bare names, so that ``snakemake --profile slurm`` works as typed.

Snakemake looks for a bare profile name in the current directory, then in the user's
Snakemake config folder (``$XDG_CONFIG_HOME/snakemake``, by default ``~/.config/snakemake``)
and the system's (``/etc/xdg/snakemake``). ``spikeflow profiles install`` links the shipped
profiles into the user's folder (or copies them, ``--copy``); a path such as
``--profile cluster_profiles/slurm`` works without it.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

SHIPPED = ("local", "slurm")
_CHECKOUT = Path(__file__).resolve().parents[2]  # the source tree of an editable install


class ProfileError(ValueError):
    """A profile that cannot be installed, with a one-sentence reason."""


@dataclass(frozen=True)
class Status:
    name: str
    source: Path
    target: Path
    state: str  # "missing", "linked", "copied" (same files), "other" (something else is there)


def snakemake_profile_dir() -> Path:
    """The user's Snakemake profile folder, as Snakemake itself finds it."""
    try:
        from platformdirs import user_config_dir  # what Snakemake uses (AppDirs("snakemake", "snakemake"))

        return Path(user_config_dir("snakemake", "snakemake"))
    except ImportError:  # pragma: no cover - platformdirs comes with snakemake
        base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
        return Path(base) / "snakemake"


def shipped_dir(cwd: Path | None = None) -> Path:
    """``cluster_profiles/`` of the project: in the current directory, else the checkout spikeflow runs from."""
    for base in (Path.cwd() if cwd is None else cwd, _CHECKOUT):
        candidate = base / "cluster_profiles"
        if all((candidate / name / "profile.yaml").is_file() for name in SHIPPED):
            return candidate.resolve()
    raise ProfileError(
        "cannot find spikeflow's cluster_profiles/ folder; run this from the project root "
        "(or use --profile PATH/TO/cluster_profiles/slurm directly)"
    )


def status(names: tuple[str, ...] = SHIPPED, dest: Path | None = None, source: Path | None = None) -> list[Status]:
    """Where each shipped profile is and whether Snakemake finds it under its bare name."""
    dest = snakemake_profile_dir() if dest is None else dest
    source = shipped_dir() if source is None else source
    out = []
    for name in names:
        if name not in SHIPPED:
            raise ProfileError(f"spikeflow ships no profile {name!r}; its profiles are {', '.join(SHIPPED)}")
        src, target = source / name, dest / name
        out.append(Status(name, src, target, _state(src, target)))
    return out


def install(
    names: tuple[str, ...] = SHIPPED,
    *,
    force: bool = False,
    copy: bool = False,
    dest: Path | None = None,
    source: Path | None = None,
) -> list[str]:
    """Link (or copy) shipped profiles into the user's Snakemake profile folder.

    Idempotent: a profile already linked (or an identical copy) is left as it is. Something
    else under the same name is refused unless ``force``, which moves it aside to
    ``<name>.bak`` (never deletes it).

    Returns:
        One line per profile saying what was done.

    Raises:
        ProfileError: an unknown name, or another profile in the way without ``force``.
    """
    statuses = status(names, dest, source)
    for st in statuses:  # refuse before changing anything
        if st.state == "other" and not force:
            raise ProfileError(
                f"{st.target} already holds another Snakemake profile named {st.name}; "
                f"keep it and use --profile {st.source}, or rerun with --force to move it aside"
            )
    lines = []
    for st in statuses:
        if st.state == ("copied" if copy else "linked"):
            lines.append(f"profile {st.name}: already installed at {st.target}; `snakemake --profile {st.name}` uses it")
            continue
        moved = ""
        if st.state == "other":
            backup = _free_name(st.target.with_name(st.name + ".bak"))
            st.target.rename(backup)
            moved = f" (the previous one is now {backup})"
        elif st.state == "linked":  # ours, to be replaced by a copy
            st.target.unlink()
        elif st.state == "copied":  # ours (identical files), to be replaced by a link
            shutil.rmtree(st.target)
        st.target.parent.mkdir(parents=True, exist_ok=True)
        if copy:
            shutil.copytree(st.source, st.target)
            how = f"copied {st.source} to {st.target}"
        else:
            st.target.symlink_to(st.source, target_is_directory=True)
            how = f"linked {st.target} -> {st.source}"
        lines.append(f"profile {st.name}: {how}{moved}; `snakemake --profile {st.name}` now uses it")
    return lines


def _state(src: Path, target: Path) -> str:
    if not target.exists() and not target.is_symlink():
        return "missing"
    if target.is_symlink() and target.resolve() == src.resolve():
        return "linked"
    if target.is_dir() and not target.is_symlink() and _same_tree(src, target):
        return "copied"
    return "other"


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        candidate, n = path.with_name(f"{path.name}{n}"), n + 1
    return candidate
