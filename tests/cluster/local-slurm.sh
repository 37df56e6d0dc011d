#!/usr/bin/env bash
# A real one-node Slurm cluster on localhost for the workflow tests (Debian's slurm-wlm, munge).
#
#   tests/cluster/local-slurm.sh start DIR   write DIR/slurm.conf, start munged, slurmctld, slurmd
#   tests/cluster/local-slurm.sh stop DIR    stop the daemons started from DIR
#
# The config is also linked at /etc/slurm/slurm.conf, where srun inside a job looks for it
# (Snakemake's jobstep executor drops SLURM_CONF from the job's environment); the script
# refuses to replace a slurm.conf of another cluster. Needs root and
# `apt-get install slurm-wlm munge` (the .ci/run script does both). No accounting daemon:
# Snakemake's Slurm executor polls with `--slurm-status-command squeue`, which needs
# MinJobAge >= 120 s (set here).
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
conf="$dir/slurm.conf"

etc_conf=/etc/slurm/slurm.conf

stop() {
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [ -L "$etc_conf" ] && [ "$(readlink "$etc_conf")" = "$conf" ]; then rm -f "$etc_conf"; fi
    sleep 1
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for prog in munged slurmctld slurmd sbatch; do
    command -v "$prog" >/dev/null || { echo "local-slurm.sh: $prog missing: apt-get install slurm-wlm munge" >&2; exit 1; }
done

# munge: one key, one daemon (shared by every cluster started here)
if ! pgrep -x munged >/dev/null; then
    [ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
    chown -R munge:munge /etc/munge 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
    if id munge >/dev/null 2>&1; then
        su -s /bin/sh munge -c "munged" || munged --force
    else
        munged --force
    fi
fi

host="$(hostname -s)"
cpus="$(nproc)"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p "$dir/state" "$dir/spool"
if [ -e "$etc_conf" ] && ! grep -q '^ClusterName=spikeflow-test' "$etc_conf"; then
    echo "local-slurm.sh: $etc_conf belongs to another Slurm cluster; not starting a test cluster here" >&2
    exit 1
fi
cat > "$conf" <<CONF
ClusterName=spikeflow-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=pmix
ReturnToService=2
MinJobAge=300
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE OverSubscribe=NO State=UP
CONF

stop
mkdir -p /etc/slurm
ln -sfn "$conf" "$etc_conf"
export SLURM_CONF="$conf"
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 1 30); do
    if sinfo -h -o %T 2>/dev/null | grep -q -E '^(idle|mixed|allocated)'; then
        echo "local-slurm.sh: cluster up (SLURM_CONF=$conf)"
        exit 0
    fi
    sleep 1
done
echo "local-slurm.sh: the node did not come up; see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
