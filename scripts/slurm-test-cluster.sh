#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1 for the Slurm executor's tests, without systemd.
#
#   scripts/slurm-test-cluster.sh start    install slurm-wlm and munge if missing, write slurm.conf,
#                                          start munged, slurmctld and slurmd, wait for the node
#   scripts/slurm-test-cluster.sh stop     stop the daemons this script started, by PID
#   scripts/slurm-test-cluster.sh status   sinfo and squeue
#   scripts/slurm-test-cluster.sh env      print `export SLURM_CONF=…` for the Slurm commands
#
# Everything lives under $BNREPRO_SLURM_DIR (default /tmp/bnrepro-slurm): slurm.conf, state, logs and
# PID files. The Slurm commands find the cluster through SLURM_CONF; the tests read the same default.
# Needs root (the daemons run as root; munged as the munge user).
set -euo pipefail

DIR="${BNREPRO_SLURM_DIR:-/tmp/bnrepro-slurm}"
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"
NODE="$(hostname -s)"

log() { echo "slurm-test-cluster: $*" >&2; }

install_packages() {
    local missing=""
    for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || { log "missing packages:$missing; run: sudo apt-get install -y$missing"; exit 1; }
    log "installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

write_conf() {
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    local cpus mem
    # At least 8 CPUs, so that test jobs (which idle most of the time) run side by side on a small
    # machine; config_overrides keeps slurmd from draining the node for having fewer.
    cpus="$(nproc)"
    [ "$cpus" -ge 8 ] || cpus=8
    # RealMemory in MiB, a little under what the machine has, so that --mem requests are checked.
    mem="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
    cat >"$CONF" <<EOF
# Written by scripts/slurm-test-cluster.sh: one node on 127.0.0.1, no accounting, no cgroups.
ClusterName=bnrepro-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A requeued job waits cred_expire seconds (default 120) before it may start again; the time-limit
# test requeues a job several times.
AuthInfo=cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Start batch jobs as soon as they are submitted or resources free up, not up to 3 s later.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
MaxArraySize=10001
# Finished jobs leave squeue after 300 s; the executor reads the exit-status files, not this.
MinJobAge=300
# Without a default, a job gets the whole node's memory and test jobs would run one at a time.
DefMemPerCPU=256
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_ok; then return 0; fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged 2>>"$DIR/log/munged.log" || true
    for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
    munge_ok || { log "munged did not start; see $DIR/log/munged.log"; exit 1; }
    # munged keeps its pid file in /run/munge; a copy beside the others marks it as ours to stop.
    cp /run/munge/munged.pid "$DIR/munged.pid"
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    install_packages
    mkdir -p "$DIR"
    chmod 0755 "$DIR"
    write_conf
    start_munge
    pid_alive "$DIR/slurmctld.pid" || /usr/sbin/slurmctld -f "$CONF"
    pid_alive "$DIR/slurmd.pid" || /usr/sbin/slurmd -f "$CONF"
    for _ in $(seq 100); do
        state="$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)"
        case "$state" in idle*|mixed*|allocated*) break ;; esac
        sleep 0.1
    done
    case "${state:-}" in
        idle*|mixed*|allocated*) log "up: node $NODE is $state; SLURM_CONF=$CONF" ;;
        *) log "node $NODE did not come up (state '${state:-none}'); logs in $DIR/log"; exit 1 ;;
    esac
}

stop_pid() {
    local file="$1" name="$2"
    [ -s "$file" ] || return 0
    local pid
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "$name ($pid) ignored SIGTERM; killing"; kill -9 "$pid"; }
    fi
    rm -f "$file"
}

stop() {
    stop_pid "$DIR/slurmd.pid" slurmd
    stop_pid "$DIR/slurmctld.pid" slurmctld
    # munged only if this script started it (it wrote munged.pid).
    stop_pid "$DIR/munged.pid" munged
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) sinfo; squeue ;;
    env) echo "export SLURM_CONF='$CONF'" ;;
    *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
