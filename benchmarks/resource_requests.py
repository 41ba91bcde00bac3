"""Per rule: the resources a SLURM submission requests next to what the jobs used.

Run in a finished workflow directory (e.g. benchmarks/out/run after the seed-scale run):
requests come from a dry run with the SLURM profile (``-n --forceall``), use from
Snakemake's benchmark files (results/benchmarks/).

    python benchmarks/resource_requests.py WORKDIR CONFIGFILE
"""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def requests(workdir, configfile):
    """DataFrame rule, wildcards, threads, mem_mb, runtime of every planned cluster job."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-n", "--forceall",
         "--profile", str(REPO / "profiles" / "slurm"), "--configfile", str(configfile)],
        cwd=workdir, capture_output=True, text=True, check=True)
    rows = []
    for block in re.split(r"\n(?=rule \w+:)", result.stdout):
        rule = re.match(r"rule (\w+):", block)
        if not rule or rule.group(1) == "all":
            continue
        resources = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"resources: (.*)", block).group(1)))
        threads = re.search(r"threads: (\d+)", block)
        wildcards = re.search(r"wildcards: (.*)", block)
        rows.append({"rule": rule.group(1), "wildcards": wildcards.group(1) if wildcards else "",
                     "threads": int(threads.group(1)) if threads else 1,
                     "mem_mb": int(resources["mem_mb"]), "runtime": int(resources["runtime"])})
    return pd.DataFrame(rows)


def measured(workdir):
    """DataFrame rule, seconds, max_rss_mb of every job that wrote a benchmark file."""
    rows = []
    for path in (Path(workdir) / "results" / "benchmarks").rglob("*.tsv"):
        rule = path.relative_to(Path(workdir) / "results" / "benchmarks").parts[0].removesuffix(".tsv")
        last = pd.read_csv(path, sep="\t").iloc[-1]
        rows.append({"rule": rule, "seconds": float(last["s"]), "max_rss_mb": float(last["max_rss"])})
    return pd.DataFrame(rows)


def main(workdir, configfile):
    asked = requests(workdir, Path(configfile).resolve()).groupby("rule").agg(
        jobs=("rule", "size"), threads=("threads", "max"), mem_mb=("mem_mb", "max"),
        runtime_min=("runtime", "max"))
    used = measured(workdir).groupby("rule").agg(max_rss_mb=("max_rss_mb", "max"),
                                                 max_seconds=("seconds", "max"))
    table = asked.join(used, how="left")
    table["mem_headroom"] = table["mem_mb"] / table["max_rss_mb"]
    table["time_headroom"] = table["runtime_min"] * 60 / table["max_seconds"]
    print(table.round(1).to_markdown())  # tabulate comes with snakemake
    short = table[(table["mem_headroom"] < 1) | (table["time_headroom"] < 1)]
    if len(short):
        print(f"\nrequests below what was used: {', '.join(short.index)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
