#!/usr/bin/env bash
# The Slurm job-array scripts on a real (single-node, loopback) Slurm cluster.
#
#   tests/slurm/test_slurm.sh FDIWN_BINARY REPO_ROOT
#
# Installs Debian's slurm-wlm and munge if they are missing (as root or with
# passwordless sudo), starts munged, slurmctld and slurmd with a configuration
# in a temporary folder, then:
#   1. upscales a folder with scripts/slurm/upscale_array.sbatch as a 4-task
#      array and checks that every input has exactly one output, identical to
#      a single-process run's;
#   2. benchmarks Set5 x4 with scripts/slurm/bench_array.sbatch as a 4-task
#      array, merges the shards and checks the table equals a single-process
#      run's to the last printed digit.
# Exit status: 0 passed, 1 failed, 77 skipped (Slurm could not be started
# here; the reason is printed).
set -uo pipefail

FDIWN="$(readlink -f "$1")"
ROOT="$(readlink -f "$2")"
WORK="$(mktemp -d /tmp/fdiwn-slurm-XXXXXX)"
chmod 700 "$WORK"
PIDS=()

skip() { echo "SKIPPED: the Slurm test did not run: $*"; exit 77; }
fail() { echo "FAILED: $*"; dump_logs; exit 1; }
dump_logs() {
  for f in "$WORK"/*.log "$WORK"/logs/*; do
    [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }
  done
}
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- Slurm and munge, from Debian -------------------------------------------------
need=()
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
    skip "slurm-wlm and munge are not installed and installing them needs root"
  fi
  echo "installing ${need[*]}"
  # Debian starts the daemons from their packages where it can; this test runs its own.
  export DEBIAN_FRONTEND=noninteractive
  { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q "${need[@]}"; } \
    > "$WORK/apt.log" 2>&1 || { tail -5 "$WORK/apt.log"; skip "apt-get could not install ${need[*]}"; }
fi
[[ $(id -u) -eq 0 ]] || skip "slurmd must run as root to launch jobs (this test runs as $(id -un))"
# Daemons the packages may have started would hold the default ports; ours use others.

# --- munge ----------------------------------------------------------------------
dd if=/dev/urandom of="$WORK/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$WORK/munge.key"
munged --force --key-file="$WORK/munge.key" --socket="$WORK/munge.socket" \
       --pid-file="$WORK/munged.pid" --log-file="$WORK/munged.log" --seed-file="$WORK/munged.seed" \
  || skip "munged would not start: $(tail -2 "$WORK/munged.log" 2>/dev/null)"
for _ in $(seq 50); do [[ -f $WORK/munged.pid ]] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/munged.pid")")
munge --socket="$WORK/munge.socket" -n | unmunge --socket="$WORK/munge.socket" > /dev/null \
  || skip "munge does not work here"

# --- A one-node cluster on loopback ----------------------------------------------
cpus=$(nproc)
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 8 / 10 ))
port=$(( 20000 + $$ % 20000 ))
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/logs"
cat > "$WORK/slurm.conf" <<EOF
ClusterName=fdiwntest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$WORK/munge.socket
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$WORK/slurm.conf"
slurmctld -D -f "$SLURM_CONF" > "$WORK/slurmctld.out" 2>&1 &
ctld=$!
PIDS+=($ctld)
slurmd -D -f "$SLURM_CONF" -N localhost > "$WORK/slurmd.out" 2>&1 &
slurmd_pid=$!
PIDS+=($slurmd_pid)
# Up to 60 s for the node to be idle; a daemon that exits is a skip at once,
# with its last words (slurmd needs /sys/fs/cgroup, for instance).
state=""
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  for d in "slurmctld:$ctld" "slurmd:$slurmd_pid"; do
    kill -0 "${d#*:}" 2>/dev/null ||
      skip "${d%%:*} exited at start: $(grep -h error "$WORK/${d%%:*}.out" | tail -2 | tr '\n' ' ')"
  done
  state=$(timeout 5 sinfo -h -N -o %t 2>/dev/null | head -1)
  [[ $state == idle ]] && break
  sleep 1
done
[[ $state == idle ]] || { dump_logs; skip "the local Slurm cluster did not come up in 60 s (node state '${state:-none}')"; }
echo "Slurm $(sinfo -V | awk '{print $2}') up: 1 node, $cpus CPUs"

# --- 1. Upscale a folder with a 4-task array ---------------------------------------
mkdir -p "$WORK/in/sub"
cp "$ROOT"/tests/data/Set5/LR/x4/*.png "$WORK/in/"
cp "$ROOT"/tests/data/Set5/LR/x3/*.png "$WORK/in/sub/"
cp "$ROOT"/tests/data/kinds/*.png "$ROOT"/tests/data/kinds/*.jpg "$WORK/in/" 2>/dev/null
rm -f "$WORK/in/bomb.png"
inputs=$(find "$WORK/in" -type f | wc -l)
export FDIWN
timeout 900 sbatch --wait --array=0-3 --cpus-per-task=1 --mem=1500M --output="$WORK/logs/up-%a.log" \
       "$ROOT/scripts/slurm/upscale_array.sbatch" "$WORK/in" "$WORK/out" -r -s 2 -q \
  > "$WORK/sbatch-up.log" 2>&1 || fail "the upscale array failed: $(cat "$WORK/sbatch-up.log")"
"$FDIWN" -q upscale -i "$WORK/in" -o "$WORK/single" -r -s 2 -j 1 || fail "single-process upscale failed"
outputs=$(find "$WORK/out" -type f | wc -l)
[[ $outputs -eq $inputs ]] || fail "$inputs inputs but $outputs outputs"
[[ -z $(find "$WORK/out" -name '.*') ]] || fail "temporary files left in the output"
while IFS= read -r f; do
  rel="${f#"$WORK/single/"}"
  cmp -s "$f" "$WORK/out/$rel" || fail "$rel differs from the single-process run"
done < <(find "$WORK/single" -type f)
echo "upscale array: $inputs inputs, 4 tasks, $outputs outputs, each identical to a single-process run"

# --- 2. Benchmark Set5 x4 with a 4-task array, then merge ---------------------------
bench_args=(--hr "$ROOT/tests/data/Set5/HR/x4" --lr "$ROOT/tests/data/Set5/LR/x4" -s 4)
timeout 900 sbatch --wait --array=0-3 --cpus-per-task=1 --mem=1500M --output="$WORK/logs/bench-%a.log" \
       "$ROOT/scripts/slurm/bench_array.sbatch" "$WORK/results" "${bench_args[@]}" \
  > "$WORK/sbatch-bench.log" 2>&1 || fail "the bench array failed: $(cat "$WORK/sbatch-bench.log")"
"$FDIWN" -q bench --merge "$WORK"/results/bench-*.json --json "$WORK/merged.json" > "$WORK/merged.txt" \
  || fail "merging failed"
"$FDIWN" -q bench "${bench_args[@]}" -j 1 --json "$WORK/single.json" > "$WORK/single.txt" \
  || fail "single-process bench failed"
# The per-image rows and the mean, without the timing columns.
scores() {
  grep -E "^(baby|bird|butterfly|head|woman|mean) " "$1" |
    awk '$1 == "mean" {print $1, $4, $5; next} {print $1, $3, $4}'
}
diff <(scores "$WORK/single.txt") <(scores "$WORK/merged.txt") > "$WORK/diff.txt" \
  || fail "merged table differs from the single-process run: $(cat "$WORK/diff.txt")"
grep "^mean" "$WORK/merged.txt"
echo "bench array: 4 shards merged; PSNR/SSIM per image and mean equal the single-process run"
echo "PASSED"
exit 0
