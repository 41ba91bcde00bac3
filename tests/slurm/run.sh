#!/usr/bin/env bash
# Runs the demo workflow on a real single-node SLURM cluster on this machine with the
# SLURM profile (its group jobs included) and checks that every sbatch job exits 0 and
# that the results are byte-identical to a local run's. Needs root (installs Debian's
# slurm-wlm and munge, writes /etc/slurm/slurm.conf, starts munged, slurmctld and slurmd).
#   bash tests/slurm/run.sh [WORKDIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d /tmp/descluster-slurm.XXXXXX)}
mkdir -p "$work"
say() { printf '[slurm-test] %s\n' "$*"; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
python -m pip install --quiet snakemake-executor-plugin-slurm

say "starting munge"
if [[ ! -s /etc/munge/munge.key ]]; then
    mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null || create-munge-key -f
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# On exit the test cluster is stopped and its slurm.conf set aside: a slurm.conf naming a
# controller that no longer runs makes every later `snakemake` start wait 9 s (the SLURM
# plugin asks `scontrol show config` at import). KEEP_SLURM=1 leaves the cluster running.
stop_cluster() {
    [[ ${KEEP_SLURM:-0} == 1 ]] && return
    pkill -x slurmctld || true
    pkill -x slurmd || true
    [[ -f /etc/slurm/slurm.conf ]] && mv /etc/slurm/slurm.conf /etc/slurm/slurm.conf.descluster-test
    return 0
}
trap stop_cluster EXIT

say "writing slurm.conf for one node, $(hostname -s)"
node_line=$(slurmd -C | head -n 1)     # NodeName=... CPUs=... RealMemory=...
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=descluster-test
SlurmctldHost=$(hostname -s)
SlurmUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
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
# finished jobs stay visible to squeue for 10 minutes: the plugin polls with squeue
MinJobAge=600
$node_line State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

say "starting slurmctld and slurmd"
pkill -x slurmctld || true
pkill -x slurmd || true
for _ in $(seq 30); do   # until both have exited: a new slurmctld cannot start beside the old
    pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || break
    sleep 1
done
: > /var/log/slurm/slurmctld.log   # count only this run's jobs
slurmctld -i
slurmd
for _ in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null | head -n 1)
    [[ $state == idle ]] && break
    sleep 1
done
sinfo
[[ $state == idle ]] || { say "node is '$state', not idle"; tail -20 /var/log/slurm/slurmd.log; exit 1; }

say "config: tiny demo"
python - "$work/config.yaml" <<'PY'
import sys, yaml
sys.path.insert(0, "tests")
from conftest import tiny_demo_config
config = tiny_demo_config(n_images=300, thumbnails=True)
config["pca"] = {"efficientnet-b7": [10], "osnet": [8], "vdc_color": [4], "vdc_type": [3]}
config["k_range"] = [2, 6]   # five k per variant: one group job each
config["kmeans"] = {"efficientnet-b7": [3], "osnet": [3], "vdc_color": [3], "vdc_type": [3]}
yaml.safe_dump(config, open(sys.argv[1], "w"), sort_keys=False)
PY

snake() { (cd "$1" && shift && python -m snakemake -s "$repo/Snakefile" "$@"); }
mkdir -p "$work/local" "$work/slurm"
say "local run"
snake "$work/local" --cores 2 --configfile "$work/config.yaml" --quiet all
say "SLURM run through sbatch"
started=$(date +%s)
snake "$work/slurm" --profile "$repo/profiles/slurm" --configfile "$work/config.yaml" \
    --default-resources slurm_partition=debug \
    --slurm-status-command squeue --slurm-init-seconds-before-status-checks 3 \
    > "$work/slurm/snakemake.out" 2>&1 || { tail -60 "$work/slurm/snakemake.out"; exit 1; }
say "SLURM run took $(( $(date +%s) - started )) s"

python - "$work" <<'PY'
import pathlib, sys
work = pathlib.Path(sys.argv[1])
local, slurm = work / "local" / "results", work / "slurm" / "results"
names = sorted(p.relative_to(local) for pattern in
               ("clusters/**/assignments.parquet", "clusters/**/centroids.npy", "summary/*.tsv",
                "kscan/*/*.tsv", "kscan/*/*/k*.tsv", "pca/*/variants.tsv",
                "cards/**/cards.tsv", "labels/templates/*.yaml")
               for p in local.glob(pattern))
different = [str(n) for n in names if (local / n).read_bytes() != (slurm / n).read_bytes()]
assert names and not different, f"SLURM results differ from the local run: {different}"
print(f"[slurm-test] {len(names)} result files identical to the local run")
slurm_logs = list((slurm / "logs" / "slurm").rglob("*.log"))
print(f"[slurm-test] {len(slurm_logs)} SLURM job logs under results/logs/slurm")
assert slurm_logs, "no SLURM job logs: jobs did not go through sbatch"
PY

# what was submitted: Snakemake's own count of rule jobs against the sbatch jobs
out="$work/slurm/snakemake.out"
rule_jobs=$(awk '/^Job stats:/ {stats = 1} stats && $1 == "total" {print $2; exit}' "$out")
sbatch_jobs=$(grep -c "has been submitted with SLURM jobid" "$out" || true)
group_jobs=$(grep "has been submitted with SLURM jobid" "$out" | grep -c "/group_" || true)
say "Snakemake: $rule_jobs rule jobs (the local target included) in $sbatch_jobs sbatch jobs," \
    "$group_jobs of them group jobs"
# finished jobs stay in slurmctld's memory for MinJobAge: each job's request and exit code
# (the plugin names every job of a run after the run's ID)
run_id=$(sed -n 's/^SLURM run ID: //p' "$out" | head -n 1)
scontrol show job -o > "$work/slurm/jobs.txt"
python - "$work/slurm/jobs.txt" "$run_id" "$sbatch_jobs" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
jobs = [job for job in (dict(re.findall(r"(\w+)=(\S*)", line)) for line in lines)
        if job.get("JobName") == sys.argv[2]]
assert len(jobs) == int(sys.argv[3]), f"slurmctld knows {len(jobs)} jobs of run {sys.argv[2]}"
names = ("JobId", "Comment", "NumCPUs", "MinMemoryNode", "TimeLimit", "JobState", "ExitCode")
for job in jobs:  # the comment names the rule, or the group, and its wildcards
    jobid, comment, cpus, mem, limit, state, code = (job.get(n, "?") for n in names)
    print(f"[slurm-test]   job {jobid:>4} {comment[:48]:48} cpus={cpus:>2} mem={mem:>6}"
          f" time={limit:>8} {state} exit={code}")
bad = [job.get("JobId") for job in jobs
       if job.get("JobState") != "COMPLETED" or job.get("ExitCode") != "0:0"]
assert jobs and not bad, f"jobs not completed with exit code 0: {bad}"
PY
submitted=$(grep -c "_slurm_rpc_submit_batch_job: JobId" /var/log/slurm/slurmctld.log || true)
succeeded=$(grep -c "_job_complete: JobId=[0-9]* WEXITSTATUS 0" /var/log/slurm/slurmctld.log || true)
say "slurmctld: $submitted batch job(s) submitted, $succeeded exited with status 0"
[[ $submitted -gt 0 && $succeeded -eq $submitted && $submitted -eq $sbatch_jobs ]]
# grouping happened: fewer sbatch jobs than rule jobs, and group jobs among them
[[ $group_jobs -gt 0 && $sbatch_jobs -lt $rule_jobs ]]
say "passed"
