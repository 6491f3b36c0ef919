# shellcheck shell=bash
# A single-node Slurm cluster (munge + slurmctld + slurmd, no systemd) for the tests marked `slurm`.
#
#   source .ci/slurm.sh      # installs slurm-wlm and munge with apt-get if they are missing, starts the
#                            # cluster with all its state in one temporary folder, exports SLURM_CONF and
#                            # SCOPE_SLURM_DIR, and stops it when this shell exits
#   scope_slurm_stop         # stop it earlier (kills the three daemons by PID, removes the folder)
#
# .ci/run sources it before the tests. Nothing under /etc is edited; free ports are picked, so a
# system Slurm on the same machine is left alone. Needs root (slurmd starts jobs) or a user who may
# run the daemons.

if ! (return 0 2>/dev/null); then
  echo "usage: source .ci/slurm.sh   (it exports SLURM_CONF into your shell)" >&2
  exit 2
fi

scope_slurm_install() {
  local missing=0 tool
  for tool in sbatch slurmctld slurmd munged mungekey; do
    command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 || missing=1
  done
  [ "$missing" = 0 ] && return 0
  echo "slurm.sh: installing slurm-wlm and munge (apt-get)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

scope_slurm_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

scope_slurm_start() {
  scope_slurm_install || { echo "slurm.sh: could not install slurm-wlm and munge" >&2; return 1; }
  case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin:/sbin" ;; esac
  local S user cpus mem ctld_port d_port i
  S="$(mktemp -d "${TMPDIR:-/tmp}/scope-slurm.XXXXXX")"
  chmod 755 "$S"
  user="$(id -un)"
  cpus="$(nproc)"
  # 80 % of the memory, in MB, so that memory requests of the tests are checked for real
  mem="$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)"
  ctld_port="$(scope_slurm_free_port)"
  d_port="$(scope_slurm_free_port)"
  mkdir -p "$S/munge" "$S/munge-run" "$S/state" "$S/spool" "$S/log"
  chmod 700 "$S/munge"
  chmod 755 "$S/munge-run"          # munged refuses a socket folder without o+x
  cat >"$S/slurm.conf" <<EOF
ClusterName=scope-test
SlurmctldHost=localhost
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge-run/munge.socket
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
Waittime=0
GresTypes=gpu
NodeName=localhost NodeHostname=localhost CPUs=$cpus RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu-shared Nodes=ALL MaxTime=INFINITE State=UP
EOF
  # a fake GPU (File= is required, or the node drains), so --gpus lines can be tested
  echo "NodeName=localhost Name=gpu File=/dev/null" >"$S/gres.conf"
  mungekey --create --keyfile="$S/munge/munge.key" >/dev/null 2>&1 || {
    echo "slurm.sh: mungekey failed" >&2; return 1; }
  chmod 400 "$S/munge/munge.key"
  munged --socket="$S/munge-run/munge.socket" --key-file="$S/munge/munge.key" \
    --log-file="$S/log/munged.log" --pid-file="$S/munge-run/munged.pid" --seed-file="$S/munge/munged.seed" || {
    echo "slurm.sh: munged did not start (see $S/log/munged.log)" >&2; return 1; }
  export SLURM_CONF="$S/slurm.conf" SCOPE_SLURM_DIR="$S"
  slurmctld -f "$S/slurm.conf" || { echo "slurm.sh: slurmctld did not start (see $S/log)" >&2; return 1; }
  slurmd -f "$S/slurm.conf" -N localhost || { echo "slurm.sh: slurmd did not start (see $S/log)" >&2; return 1; }
  for i in $(seq 1 120); do
    if sinfo -h -N -n localhost -o %T 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
      echo "slurm.sh: single-node Slurm up ($cpus CPUs, ${mem} MB; SLURM_CONF=$SLURM_CONF)" >&2
      return 0
    fi
    sleep 0.25
  done
  echo "slurm.sh: the node did not become idle in 30 s; logs in $S/log:" >&2
  tail -n 20 "$S"/log/*.log >&2 || true
  return 1
}

scope_slurm_stop() {
  local S="${SCOPE_SLURM_DIR:-}" pid f
  [ -n "$S" ] && [ -d "$S" ] || return 0
  # jobs first (only this cluster's controller is asked), then the daemons by PID
  timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
  for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge-run/munged.pid"; do
    if [ -s "$f" ]; then
      pid="$(cat "$f")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  rm -rf "$S"
  unset SCOPE_SLURM_DIR SLURM_CONF
}

if scope_slurm_start; then
  trap scope_slurm_stop EXIT
else
  scope_slurm_stop
  return 1
fi
