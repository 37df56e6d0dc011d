#!/usr/bin/env bash
# Build NEST (the PyPI sdist of a pinned version) with MPI, OpenMP, GSL and Boost as a wheel,
# plus mpi4py against the same MPI, and install both into the active Python environment.
#
# The wheel installs as the `nest-simulator` distribution, so it satisfies spikeflow's
# dependency, and (unlike the PyPI binary wheel) it runs under mpirun/srun and loads C++
# extension modules. Built wheels are cached under ~/.cache/spikeflow/wheels, keyed by NEST
# version, model set, Python version, MPI version and optimisation, so only a fresh machine pays
# for the build (about 8 min with the reduced model set, 18 min with the full set, on 2 cores).
#
# Usage: containers/build-nest.sh [--models full|reduced] [--version X.Y.Z] [--optimize generic|native|MARCH]
#                                 [--lto] [--apt] [--no-install]
#   --models reduced  only the models in containers/nest-models-reduced.txt (CI; default: full)
#   --optimize generic   NEST's own flags, runs on any x86-64 (default; effectively -O3: NEST's -O2,
#                        then the Release build type's -O3 -DNDEBUG)
#   --optimize native    -O3 -march=native: tuned for this host's CPU; use only if the compute nodes
#                        have the same CPU family as the build host
#   --optimize MARCH     -O3 -march=MARCH (e.g. x86-64-v3, x86-64-v4, skylake-avx512, znver3): for
#                        compute nodes whose CPU differs from the build host's; the wheel needs a CPU
#                        with that instruction set (else NEST dies with an illegal instruction:
#                        on an older build host, build with --no-install, install on a compute node)
#   --lto             also link-time optimisation (CMake interprocedural optimisation; no
#                     measurable gain on PD14's simulate phase, unlike -march: README, bench/nest_build.py)
#   --apt             first install the Debian build dependencies (needs root)
#   --no-install      build (or find in the cache) but do not install
# Each --optimize/--lto variant has its own cache key (native: with the CPU gcc resolves it to and
# a hash of the flags it implies), so differently optimised wheels never mix.
# Environment: PYTHON (default python3) is the interpreter to build for and install into;
# CXX (default c++) the compiler checked for --optimize; SPIKEFLOW_CACHE the cache root.
set -euo pipefail

NEST_VERSION=3.10.0
MODELS=full
APT=0
INSTALL=1
OPTIMIZE=generic
LTO=0
while [ $# -gt 0 ]; do
    case "$1" in
        --models) MODELS="$2"; shift 2 ;;
        --version) NEST_VERSION="$2"; shift 2 ;;
        --apt) APT=1; shift ;;
        --no-install) INSTALL=0; shift ;;
        --optimize) OPTIMIZE="${2:-}"; shift $(( $# > 1 ? 2 : 1 )) ;;
        --lto) LTO=1; shift ;;
        -h|--help) sed -n '2,/^set -euo pipefail/{/^#/p}' "$0"; exit 0 ;;
        *) echo "build-nest.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$MODELS" in full|reduced) ;; *) echo "build-nest.sh: --models is full or reduced, not $MODELS" >&2; exit 2 ;; esac
case "$OPTIMIZE" in
    generic|native) ;;
    *) [[ "$OPTIMIZE" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || {
        echo "build-nest.sh: --optimize is generic, native or a -march value such as x86-64-v3, not '$OPTIMIZE'" >&2; exit 2; } ;;
esac

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

# Optimisation flags (none for generic: today's build and cache key stay as they were)
OPT_ARGS=()
OPT_KEY=""
if [ "$OPTIMIZE" != generic ]; then
    CXX_CHECK="${CXX:-c++}"
    command -v "$CXX_CHECK" >/dev/null || { echo "build-nest.sh: compiler $CXX_CHECK not found (set CXX)" >&2; exit 1; }
    printf 'int main() { return 0; }\n' | "$CXX_CHECK" -march="$OPTIMIZE" -x c++ -c -o /dev/null - 2>/dev/null || {
        echo "build-nest.sh: $CXX_CHECK does not know -march=$OPTIMIZE (valid values: $CXX_CHECK -Q --help=target | grep -A2 'valid arguments for -march')" >&2; exit 2; }
    OPT_ARGS=(-C "cmake.define.with-optimize=-O3;-march=$OPTIMIZE")
    if [ "$OPTIMIZE" = native ]; then
        # what native means depends on the host: key it by the CPU and the flags it implies
        TARGET=$("$CXX_CHECK" -march=native -Q --help=target 2>/dev/null)
        RESOLVED=$(printf '%s\n' "$TARGET" | awk '$1 == "-march=" { print $2; exit }')
        OPT_KEY="-native.${RESOLVED:-unknown}.$(printf '%s' "$TARGET" | sha256sum | cut -c1-8)"
    else
        OPT_KEY="-march.$OPTIMIZE"
    fi
fi
if [ "$LTO" = 1 ]; then
    OPT_ARGS+=(-C cmake.define.CMAKE_INTERPROCEDURAL_OPTIMIZATION=ON)
    OPT_KEY="$OPT_KEY-lto"
fi

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
KEY="nest-${NEST_VERSION}-mpi-${MODELS_KEY}-py${PYVER}-${MPIVER}${OPT_KEY}"
WHEELS="$CACHE/wheels/$KEY"

if ls "$WHEELS"/nest_simulator-*.whl >/dev/null 2>&1 && ls "$WHEELS"/mpi4py-*.whl >/dev/null 2>&1; then
    echo "build-nest.sh: using cached wheels in $WHEELS"
else
    mkdir -p "$CACHE/src" "$WHEELS.tmp"
    echo "build-nest.sh: building NEST $NEST_VERSION with MPI ($MODELS model set, optimize $OPTIMIZE$([ "$LTO" = 1 ] && echo ', LTO')) into $WHEELS"
    SDIST="$CACHE/src/nest_simulator-$NEST_VERSION.tar.gz"
    [ -f "$SDIST" ] || "$PY" -m pip download -q --no-deps --no-binary nest-simulator "nest-simulator==$NEST_VERSION" -d "$CACHE/src"
    start=$(date +%s)
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$PY" -m pip wheel -q --no-deps "$SDIST" -w "$WHEELS.tmp" \
        -C cmake.define.with-mpi=ON -C cmake.define.with-openmp=ON \
        -C cmake.define.with-gsl=ON -C cmake.define.with-boost=ON \
        -C build.verbose=false "${MODEL_ARGS[@]}" "${OPT_ARGS[@]}"
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
