#!/usr/bin/env bash
# `make slurm-check`: examples/optimize.sbatch on a real single-node Slurm (Debian's
# slurm-wlm and munge, configured and started in a temporary directory by this script and
# stopped at the end): the job array's 8 shards, merged, must equal one unsharded run.
# `make test` skips it (it starts daemons); SLURM_CHECK=1 runs it.
set -u
if [ "${SLURM_CHECK:-}" != 1 ]; then echo "1..0 # SKIP the Slurm check runs with make slurm-check"; exit 0; fi
for t in munged slurmctld slurmd sbatch sinfo; do
  command -v $t >/dev/null || { echo "1..0 # SKIP $t not installed (apt-get install slurm-wlm)"; exit 0; }
done
GTENGINE=${GTENGINE:-./gtengine}
GTENGINE=$(cd "$(dirname "$GTENGINE")" && pwd)/$(basename "$GTENGINE")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$tmp/munge/pid" ] && kill "$(cat "$tmp/munge/pid")" 2>/dev/null
  sleep 1
  if [ -n "${KEEP_TMP:-}" ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
host=$(hostname -s)
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/work"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 700 "$tmp/munge"; chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/sock" --pid-file="$tmp/munge/pid" \
  --log-file="$tmp/munge/log" --seed-file="$tmp/munge/seed" 2>"$tmp/log/munge.err"
check "munged starts" '[ -S "$tmp/munge/sock" ]'
cat >"$tmp/slurm.conf" <<EOF
ClusterName=gtcheck
SlurmctldHost=$host
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -i >"$tmp/log/ctld.out" 2>&1 & pids+=($!)
slurmd -D >"$tmp/log/d.out" 2>&1 & pids+=($!)
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^idle' && break
  sleep 1
done
check "single-node Slurm is up (sinfo: $(sinfo -h -o %T 2>/dev/null | head -1))" 'sinfo -h -o %T 2>/dev/null | grep -qE "^idle"'

"$GTENGINE" -e '
local gt = require "gt"
local s = gt.data.synthetic { n = 2000, seed = 5 }
local f = assert(io.open(arg[1], "w"))
f:write("Date,Open,High,Low,Close,Volume\n")
for i = 0, s.n - 1 do
  f:write(("%s,%.17g,%.17g,%.17g,%.17g,%d\n"):format(gt.time.format(s:time(i)), s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]))
end
f:close()' "$tmp/work/prices.csv"
G='fast=2:20:2,slow=10:60:10'
# exported, not given to --export=ALL,GRID=...: sbatch splits that list at the grid's commas
jobid=$(cd "$tmp/work" && GTENGINE="$GTENGINE" GRID="$G" DATA=prices.csv sbatch --parsable --wait --export=ALL \
  --chdir="$tmp/work" "$root/examples/optimize.sbatch" 2>"$tmp/log/sbatch.err")
rc=$?
check "sbatch --wait runs the 8-task array (job $jobid) to completion" '[ $rc = 0 ] && [ "$(ls "$tmp/work/shards/"shard*.db 2>/dev/null | wc -l)" = 8 ]'
[ $rc != 0 ] && sed 's/^/# /' "$tmp/log/sbatch.err" && tail -5 "$tmp/log/slurmctld.log" | sed 's/^/# /'
(cd "$tmp/work" && "$GTENGINE" optimize merge shards/shard*.db --into all.db >/dev/null &&
  "$GTENGINE" optimize report 1 --db all.db --json >merged.json &&
  "$GTENGINE" optimize --strategy sma_cross --data prices.csv --grid "$G" --db one.db --quiet --json >/dev/null &&
  "$GTENGINE" optimize report 1 --db one.db --json >single.json) 2>"$tmp/log/merge.err"
check "the merged Slurm shards equal an unsharded run" '[ -s "$tmp/work/merged.json" ] && cmp -s "$tmp/work/merged.json" "$tmp/work/single.json"'
echo "1..$n"
