#!/usr/bin/env bash
# Build NEST (the PyPI sdist of a pinned version) with MPI, OpenMP, GSL and Boost as a wheel,
# plus mpi4py against the same MPI, and install both into the active Python environment.
#
# The wheel installs as the `nest-simulator` distribution, so it satisfies spikeflow's
# dependency, and (unlike the PyPI binary wheel) it runs under mpirun/srun and loads C++
# extension modules. Built wheels are cached under ~/.cache/spikeflow/wheels, keyed by NEST
# version, model set, Python version and MPI version, so only a fresh machine pays for the build
# (about 8 min with the reduced model set, 18 min with the full set, on 2 cores).
#
# Usage: containers/build-nest.sh [--models full|reduced] [--version X.Y.Z] [--apt] [--no-install]
#   --models reduced  only the models in containers/nest-models-reduced.txt (CI; default: full)
#   --apt             first install the Debian build dependencies (needs root)
#   --no-install      build (or find in the cache) but do not install
set -euo pipefail

NEST_VERSION=3.10.0
MODELS=full
APT=0
INSTALL=1
while [ $# -gt 0 ]; do
    case "$1" in
        --models) MODELS="$2"; shift 2 ;;
        --version) NEST_VERSION="$2"; shift 2 ;;
        --apt) APT=1; shift ;;
        --no-install) INSTALL=0; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build-nest.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$MODELS" in full|reduced) ;; *) echo "build-nest.sh: --models is full or reduced, not $MODELS" >&2; exit 2 ;; esac

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${SPIKEFLOW_CACHE:-$HOME/.cache/spikeflow}"
PY="${PYTHON:-python3}"

if [ "$APT" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends build-essential cmake ninja-build pkg-config \
        openmpi-bin libopenmpi-dev libgsl-dev libboost-dev libltdl-dev python3-dev python3-venv
fi
for tool in mpicc cmake; do
    command -v "$tool" >/dev/null || { echo "build-nest.sh: $tool not found; rerun with --apt (Debian: openmpi-bin libopenmpi-dev cmake)" >&2; exit 1; }
done

PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
MPIVER=$(mpirun --version 2>/dev/null | head -1 | tr -cd '[:alnum:]._-')
MODEL_ARGS=()
if [ "$MODELS" = reduced ]; then
    LIST=$(grep -v '^\s*#' "$HERE/nest-models-reduced.txt" | grep -v '^\s*$' | paste -sd ';')
    MODEL_ARGS=(-C "cmake.define.with-models=$LIST")
    MODELS_KEY=$(printf '%s' "$LIST" | sha256sum | cut -c1-12)
else
    MODELS_KEY=full
fi
KEY="nest-${NEST_VERSION}-mpi-${MODELS_KEY}-py${PYVER}-${MPIVER}"
WHEELS="$CACHE/wheels/$KEY"

if ls "$WHEELS"/nest_simulator-*.whl >/dev/null 2>&1 && ls "$WHEELS"/mpi4py-*.whl >/dev/null 2>&1; then
    echo "build-nest.sh: using cached wheels in $WHEELS"
else
    mkdir -p "$CACHE/src" "$WHEELS.tmp"
    echo "build-nest.sh: building NEST $NEST_VERSION with MPI ($MODELS model set) into $WHEELS"
    SDIST="$CACHE/src/nest_simulator-$NEST_VERSION.tar.gz"
    [ -f "$SDIST" ] || "$PY" -m pip download -q --no-deps --no-binary nest-simulator "nest-simulator==$NEST_VERSION" -d "$CACHE/src"
    start=$(date +%s)
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$PY" -m pip wheel -q --no-deps "$SDIST" -w "$WHEELS.tmp" \
        -C cmake.define.with-mpi=ON -C cmake.define.with-openmp=ON \
        -C cmake.define.with-gsl=ON -C cmake.define.with-boost=ON \
        -C build.verbose=false "${MODEL_ARGS[@]}"
    echo "build-nest.sh: NEST built in $(( $(date +%s) - start )) s"
    # mpi4py compiled against the same MPI (the PyPI binary wheels bring their own)
    "$PY" -m pip wheel -q --no-deps --no-binary mpi4py "mpi4py>=3.1" -w "$WHEELS.tmp"
    rm -rf "$WHEELS" && mv "$WHEELS.tmp" "$WHEELS"
fi

if [ "$INSTALL" = 1 ]; then
    # replace any installed NEST/mpi4py (e.g. the PyPI wheel of the same version), then install
    # the built wheels with their dependencies (numpy etc.), so this works in an empty venv too
    "$PY" -m pip uninstall -q -y nest-simulator mpi4py 2>/dev/null || true
    "$PY" -m pip install -q "$WHEELS"/nest_simulator-*.whl "$WHEELS"/mpi4py-*.whl
    PYNEST_QUIET=1 "$PY" -c 'import nest, sys; b = nest.GetKernelStatus("build_info"); print("build-nest.sh: installed NEST", b["version"], "have_mpi:", b["have_mpi"]); sys.exit(0 if b["have_mpi"] else 1)'
fi
