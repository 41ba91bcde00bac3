"""The seed-scale benchmark: the whole study at the vehicle data's size, its k-scan beside
the notebook way, and the k-scan of 100,000 synthetic descriptors beside the notebook way,
in one command, ending with every target of the performance issue.

    python benchmarks/seed_scale.py [--out benchmarks/out] [--parts small determinism study kscan]
                                    [--baseline REV]

Data is the demo generator's (benchmarks/make_seed_data.py; written once, not timed):
OUT/data at the real size (416,314 images, four models, 6.2 GB) and OUT/small/data
(100,000 images, the 512-column osnet model only). The parts, in this order:

small        the workflow's k-scan target alone on 100,000 x 512 (ingest, PCA to 150, the
             19 scan_k jobs of k = 2..20, the summary; ``snakemake --cores 2`` from an empty
             run directory, its start included) against the notebook way in this process
             (pickle load, scikit-learn ``PCA(150)``, default ``KMeans`` on all rows for each
             k, Calinski-Harabasz and Davies-Bouldin on all rows): time ratio, inertia per k.
determinism  the small config with ground truth and two final clusterings, every target of
             the workflow, run twice from empty: every output file compared byte for byte
             (logs and Snakemake's benchmark files left out).
study        the default study (benchmarks/seed_config.yaml) from an emptied OUT/run: end to
             end time, per rule jobs, summed and longest job seconds and peak memory (from
             Snakemake's benchmark files), final inertia against the k-scan's.
kscan        osnet at 150 components, k = 2..50, on the study's reduced matrix: its 49
             scan_k jobs again (``--forcerun scan_k``) against scikit-learn's default KMeans
             on all rows with CH and DB, per k.
scheduler    Snakemake's job scheduler: the k-scan of the 100,000 images in six variants (2 to 40
             components, k = 2..50: 294 scan_k jobs, as many as the study's) with the
             workflow profile's ``scheduler: greedy`` against Snakemake's default ``ilp``,
             each from empty: wall time and ratio.
pca          benchmarks/pca_vs_sklearn.py on efficientnet-b7 (IncrementalPCA included; 6 min).

``--baseline REV`` checks REV out into a temporary git worktree and runs its own Snakefile
and package (PYTHONPATH=<worktree>/src) on the same data: its study before ours (and its
small k-scan beside ours), then prints the per-rule job time of both and their ratio, and
compares the held-out ARI (each final clustering against the demo's planted type and
colour, results/summary/validation.tsv) of the two revisions.
"""

import argparse
import filecmp
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import make_seed_data
import pca_vs_sklearn
from descluster import demo
from descluster.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SEED_CONFIG = REPO / "benchmarks" / "seed_config.yaml"
KSCAN_MODEL, KSCAN_VARIANT = "osnet", "pca150"
PCA_MODEL, PCA_COMPONENTS = "efficientnet-b7", 250
SMALL_N_IMAGES, SMALL_MODEL, SMALL_COMPONENTS, SMALL_K = 100_000, "osnet", 150, (2, 20)
SMALL_FINAL_K = [5, 10]  # the determinism check's final clusterings
SCHEDULER_VARIANTS, SCHEDULER_K = [2, 3, 5, 10, 20, 40], (2, 50)
PARTS = ["small", "determinism", "study", "kscan", "scheduler", "pca"]
MIB = 2 ** 20
# The targets
STUDY_MINUTES = 6
SEED_KSCAN_SPEEDUP, SMALL_KSCAN_SPEEDUP = 4, 2
INERTIA_MEDIAN, INERTIA_WORST = 1.00, 1.03
JOB_MEMORY_GB, INGEST_MEMORY_RATIO = 3, 1.3
ARI_TOLERANCE = 0.01


class Revision:
    """Where a workflow revision's Snakefile and package are: this tree, or a git worktree."""

    def __init__(self, root, label):
        self.root, self.label = Path(root), label

    def environment(self):
        """The environment its jobs run in: its own package first on the path."""
        return {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(self.root / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])}


def snakemake(run_dir, config, revision, *arguments):
    """Run ``revision``'s workflow in ``run_dir`` with ``config`` on 2 cores; wall seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(revision.root / "Snakefile"),
                    *arguments, "--configfile", str(config), "--cores", "2", "--quiet", "all"],
                   cwd=run_dir, check=True, env=revision.environment())
    seconds = time.perf_counter() - started
    print(f"  ({revision.label}: {seconds:.1f} s; {machine_load()})", flush=True)
    return seconds


def machine_load():
    """The load averages, to read the timings by: the benchmark shares the machine."""
    return "load average {:.1f} {:.1f} {:.1f} (1, 5, 15 min)".format(*os.getloadavg())


def empty_run_dir(run_dir):
    """Remove what an earlier run left in ``run_dir`` (results, Snakemake's state)."""
    for owned in (run_dir / "results", run_dir / ".snakemake"):
        shutil.rmtree(owned, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)


def warm_page_cache(directory):
    """Read every file under ``directory`` once, so that no timed run measures the disk."""
    for path in sorted(Path(directory).rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                while handle.read(1 << 24):
                    pass


def rule_table(run_dir):
    """Per rule: jobs, summed and longest seconds, peak RSS (MiB), from results/benchmarks."""
    root = run_dir / "results" / "benchmarks"
    rows = [{"rule": path.relative_to(root).parts[0].removesuffix(".tsv"),
             "seconds": float(last["s"]), "max_rss_mib": float(last["max_rss"])}
            for path in root.rglob("*.tsv")
            for last in [pd.read_csv(path, sep="\t").iloc[-1]]]
    return (pd.DataFrame(rows).groupby("rule")
            .agg(jobs=("seconds", "size"), total_s=("seconds", "sum"), longest_s=("seconds", "max"),
                 max_rss_mib=("max_rss_mib", "max"))
            .sort_values("total_s", ascending=False))


def compare_rules(ours, baseline, label):
    """Per rule, job seconds of both revisions and ours / baseline; printed and returned."""
    table = pd.DataFrame({
        "jobs": ours["jobs"], f"{label} jobs": baseline["jobs"],
        f"{label} s": baseline["total_s"], "ours s": ours["total_s"],
        f"{label} longest s": baseline["longest_s"], "ours longest s": ours["longest_s"],
        f"{label} peak MiB": baseline["max_rss_mib"], "ours peak MiB": ours["max_rss_mib"],
    })
    table["ours / " + label] = table["ours s"] / table[f"{label} s"]
    table = table.sort_values(f"{label} s", ascending=False, na_position="last")
    total = table[[f"{label} s", "ours s"]].sum()
    print(table.round(2).to_markdown())
    print(f"job seconds in all: {label} {total[f'{label} s']:.0f}, ours {total['ours s']:.0f} "
          f"({total['ours s'] / total[f'{label} s']:.2f} x)")
    return table


def inertia_targets(ratios, where, targets):
    """The inertia targets (median and worst over k of ours / the notebook's)."""
    median, worst = float(ratios.median()), float(ratios.max())
    targets.append((f"{where}: inertia ours / notebook, median over k", f"{median:.4f}",
                    f"<= {INERTIA_MEDIAN:.2f}", median <= INERTIA_MEDIAN))
    targets.append((f"{where}: inertia ours / notebook, worst k",
                    f"{worst:.4f} (k = {int(ratios.idxmax())})", f"<= {INERTIA_WORST:.2f}",
                    worst <= INERTIA_WORST))


def notebook_scan(X, ks, seed):
    """The notebooks' k-scan: default KMeans on all rows, CH and DB on all rows, per k."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    rows = []
    for k in ks:
        started = time.perf_counter()
        model = KMeans(n_clusters=k, random_state=seed).fit(X)
        rows.append({"k": k, "inertia": model.inertia_,
                     "calinski_harabasz": calinski_harabasz_score(X, model.labels_),
                     "davies_bouldin": davies_bouldin_score(X, model.labels_),
                     "seconds": time.perf_counter() - started})
        print(f"  notebook k={k}: {rows[-1]['seconds']:.1f} s", flush=True)
    return pd.DataFrame(rows).set_index("k")


def notebook_way(pickle_path, n_components, ks, seed):
    """The notebook way from the pickle: load, scikit-learn PCA, :func:`notebook_scan`;
    (per-k table, seconds in all, PCA explained-variance share)."""
    from sklearn.decomposition import PCA

    started = time.perf_counter()
    with open(pickle_path, "rb") as handle:
        X = np.asarray(pickle.load(handle), dtype=np.float32)  # noqa: S301 - our own file
    model = PCA(n_components, random_state=seed)
    reduced = model.fit_transform(X)
    print(f"  notebook: load and PCA ({model._fit_svd_solver}) {time.perf_counter() - started:.1f} s",
          flush=True)
    table = notebook_scan(reduced, ks, seed)
    return table, time.perf_counter() - started, float(model.explained_variance_ratio_.sum())


def small_data(out):
    """OUT/small: the 100,000-image data (made once) and the configs of the small parts."""
    small = out / "small"
    if not (small / "data" / "images_paths.csv").exists():
        make_seed_data.main([str(small / "data"), "--n-images", str(SMALL_N_IMAGES),
                             "--models", SMALL_MODEL])
    config = {
        "descriptors": {SMALL_MODEL: f"../data/descriptors/{SMALL_MODEL}.pickle"},
        "images": {"paths": "../data/images_paths.csv", "root": None},
        "pca": {SMALL_MODEL: [SMALL_COMPONENTS]},
        "k_range": list(SMALL_K),
        "kmeans": {SMALL_MODEL: []},
        "seed": 0,
    }
    scan_config = small / "kscan_config.yaml"
    scan_config.write_text(yaml.safe_dump(config, sort_keys=False))
    config["kmeans"] = {SMALL_MODEL: SMALL_FINAL_K}
    config["attributes"] = ["../data/vehicle_info.txt", "../data/attributes.csv"]
    study_config = small / "study_config.yaml"
    study_config.write_text(yaml.safe_dump(config, sort_keys=False))
    return small, scan_config, study_config


def run_small(out, targets, revisions):
    """Part 'small': the k-scan target on 100,000 x 512 against the notebook way."""
    small, config, _ = small_data(out)
    warm_page_cache(small / "data")
    target = f"results/kscan/{SMALL_MODEL}/kscan.tsv"
    low, high = SMALL_K
    print(f"\n== small: {SMALL_N_IMAGES} x {demo.MODEL_DIMS[SMALL_MODEL]}, PCA to {SMALL_COMPONENTS}, "
          f"k = {low}..{high}: the k-scan target against the notebook way", flush=True)
    seconds = {}
    for revision in revisions:
        run_dir = small / f"run_{revision.label}"
        empty_run_dir(run_dir)
        seconds[revision.label] = snakemake(run_dir, config, revision, target)
        print(f"workflow ({revision.label}): {seconds[revision.label]:.1f} s from empty, "
              f"snakemake's start included", flush=True)
    ours = pd.read_csv(small / "run_ours" / target, sep="\t").set_index("k")
    notebook, notebook_seconds, variance = notebook_way(
        small / "data" / "descriptors" / f"{SMALL_MODEL}.pickle", SMALL_COMPONENTS,
        list(range(low, high + 1)), 0)
    print(f"  (notebook: {notebook_seconds:.1f} s; {machine_load()})")
    ratios = ours["inertia"] / notebook["inertia"]
    print(pd.DataFrame({"notebook_s": notebook["seconds"], "inertia_notebook": notebook["inertia"],
                        "inertia_ours": ours["inertia"], "inertia_ratio": ratios})
          .to_markdown(floatfmt=".4g"))
    print(f"notebook: {notebook_seconds:.1f} s (PCA explains {variance:.5f} of the variance); "
          + "; ".join(f"workflow {label}: {s:.1f} s ({notebook_seconds / s:.2f} x faster)"
                      for label, s in seconds.items()))
    speedup = notebook_seconds / seconds["ours"]
    where = f"{SMALL_N_IMAGES // 1000}k x {demo.MODEL_DIMS[SMALL_MODEL]}, k = {low}..{high}"
    targets.append((f"{where}: notebook time / k-scan target time", f"{speedup:.2f} x",
                    f">= {SMALL_KSCAN_SPEEDUP} x", speedup >= SMALL_KSCAN_SPEEDUP))
    inertia_targets(ratios, where, targets)


def run_determinism(out, targets):
    """Part 'determinism': the small study twice from empty, every output compared."""
    small, _, config = small_data(out)
    print("\n== determinism: the small config with ground truth and final clusterings "
          f"(k = {', '.join(map(str, SMALL_FINAL_K))}), every target, twice", flush=True)
    runs = []
    for name in ("twice_a", "twice_b"):
        run_dir = small / name
        empty_run_dir(run_dir)
        seconds = snakemake(run_dir, config, Revision(REPO, "ours"))
        print(f"{name}: {seconds:.1f} s", flush=True)
        runs.append(run_dir / "results")
    compared, differing = 0, []
    for path in sorted(runs[0].rglob("*")):
        relative = path.relative_to(runs[0])
        if not path.is_file() or relative.parts[0] in ("logs", "benchmarks"):
            continue
        compared += 1
        other = runs[1] / relative
        if not other.is_file() or not filecmp.cmp(path, other, shallow=False):
            differing.append(str(relative))
    print(f"{compared} output files compared, {len(differing)} differ"
          + (": " + ", ".join(differing[:20]) if differing else ""))
    targets.append((f"byte-identical outputs across two runs (small config, {compared} files)",
                    f"{len(differing)} differ", "0 differ", not differing))


def run_study(out, targets, revisions):
    """Part 'study': the whole study from an empty run directory (each revision's)."""
    data = out / "data"
    warm_page_cache(data)
    tables = {}
    for revision in revisions:
        run_dir = out / ("run" if revision.label == "ours" else f"run_{revision.label}")
        empty_run_dir(run_dir)
        print(f"\n== study ({revision.label}): the default study config, snakemake --cores 2, "
              "from empty", flush=True)
        config = revision.root / "benchmarks" / "seed_config.yaml"
        seconds = snakemake(run_dir, config if config.exists() else SEED_CONFIG, revision)
        tables[revision.label] = table = rule_table(run_dir)
        print(table.round(1).to_markdown())
        print(f"end to end: {seconds / 60:.1f} min ({seconds:.0f} s), {int(table['jobs'].sum())} jobs, "
              f"{table['total_s'].sum():.0f} job seconds", flush=True)
        if revision.label == "ours":
            study_seconds = seconds
    table = tables["ours"]
    targets.append(("whole study end to end", f"{study_seconds / 60:.1f} min",
                    f"<= {STUDY_MINUTES} min", study_seconds <= STUDY_MINUTES * 60))
    largest_array_mib = max(demo.MODEL_DIMS.values()) * make_seed_data.SEED_N_IMAGES * 4 / MIB
    ingest_mib = table.loc["ingest_descriptors", "max_rss_mib"]
    others = table.drop(index="ingest_descriptors")
    targets.append(("peak memory of ingest / largest array", f"{ingest_mib / largest_array_mib:.2f} x",
                    f"<= {INGEST_MEMORY_RATIO} x", ingest_mib <= INGEST_MEMORY_RATIO * largest_array_mib))
    targets.append(("peak memory of every other job",
                    f"{others['max_rss_mib'].max() * MIB / 1e9:.2f} GB ({others['max_rss_mib'].idxmax()})",
                    f"<= {JOB_MEMORY_GB} GB", others["max_rss_mib"].max() * MIB <= JOB_MEMORY_GB * 1e9))
    final_against_scan(out / "run", targets)
    for revision in revisions[:-1]:
        print(f"\n== per rule: {revision.label} against ours, same data, same invocation")
        compare_rules(table, tables[revision.label], revision.label)
        held_out_ari(out / f"run_{revision.label}", out / "run", revision.label, targets)


def final_against_scan(run_dir, targets):
    """Every final clustering's inertia against the k-scan's at its k (fit.tsv)."""
    fits = pd.concat([pd.read_csv(p, sep="\t") for p in
                      sorted((run_dir / "results" / "clusters").rglob("fit.tsv"))])
    scanned = fits.dropna(subset=["kscan_inertia"])
    ratio = scanned["inertia"] / scanned["kscan_inertia"]
    print(f"\nfinal / k-scan inertia over {len(scanned)} final clusterings: median {ratio.median():.5f}, "
          f"largest {ratio.max():.5f}; starts kept: {fits['start'].value_counts().to_dict()}")
    targets.append((f"final inertia <= the k-scan's at the same k ({len(scanned)} clusterings)",
                    f"largest ratio {ratio.max():.5f}", "<= 1", bool((ratio <= 1).all())))


def held_out_ari(baseline_dir, ours_dir, label, targets):
    """ARI of the final clusterings against the planted attributes, two revisions: the
    change of its mean over the clusterings, per attribute (one clustering may move more,
    as two equally good KMeans optima split a few images differently; printed too)."""
    keys = ["model", "pca", "k", "attribute"]
    tables = [pd.read_csv(d / "results" / "summary" / "validation.tsv", sep="\t").set_index(keys)["ari"]
              for d in (baseline_dir, ours_dir)]
    change = (tables[1] - tables[0]).dropna()
    per_attribute = change.groupby(level="attribute").mean()
    worst, single = per_attribute.abs().idxmax(), change.abs().idxmax()
    print(f"\nheld-out ARI, ours - {label}, mean over {change.groupby(level='attribute').size().iloc[0]} "
          f"final clusterings: " + ", ".join(f"{a} {v:+.4f}" for a, v in per_attribute.items())
          + f"; largest single change {change[single]:+.4f} at {single}")
    targets.append((f"held-out ARI, ours - {label}: mean over the final clusterings, worst attribute",
                    f"{per_attribute[worst]:+.4f} ({worst})", f"within ±{ARI_TOLERANCE}",
                    bool((per_attribute.abs() <= ARI_TOLERANCE).all())))


def run_scheduler(out, targets):
    """Part 'scheduler': the same 294-job k-scan with the profile's greedy scheduler and with
    Snakemake's default ILP one."""
    small, _, _ = small_data(out)
    config = yaml.safe_load((small / "kscan_config.yaml").read_text())
    config.update(pca={SMALL_MODEL: SCHEDULER_VARIANTS}, k_range=list(SCHEDULER_K))
    config_path = small / "scheduler_config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    n_jobs = len(SCHEDULER_VARIANTS) * (SCHEDULER_K[1] - SCHEDULER_K[0] + 1)
    print(f"\n== scheduler: {n_jobs} scan_k jobs (100,000 rows, PCA to "
          f"{', '.join(map(str, SCHEDULER_VARIANTS))}), greedy (the profile's) against ilp",
          flush=True)
    seconds = {}
    for scheduler in ("ilp", "greedy"):
        run_dir = small / f"scheduler_{scheduler}"
        empty_run_dir(run_dir)
        seconds[scheduler] = snakemake(run_dir, config_path, Revision(REPO, "ours"),
                                       "--scheduler", scheduler)
    ratio = seconds["ilp"] / seconds["greedy"]
    print(f"ilp {seconds['ilp']:.1f} s, greedy {seconds['greedy']:.1f} s: {ratio:.2f} x")
    targets.append((f"{n_jobs}-job k-scan: ilp scheduler time / greedy (the profile's)",
                    f"{ratio:.2f} x", "> 1 x", ratio > 1))


def run_kscan(out, targets):
    """Part 'kscan': the workflow's k-scan of one model variant beside the notebooks'."""
    run_dir = out / "run"
    ours = Revision(REPO, "ours")
    config = yaml.safe_load(SEED_CONFIG.read_text())
    validate_config(config, REPO / "workflow" / "schemas" / "config.schema.yaml")  # fills defaults
    low, high = config["k_range"]
    ks = list(range(low, high + 1))
    reduced = f"results/pca/{KSCAN_MODEL}/{KSCAN_VARIANT}/reduced.npy"
    snakemake(run_dir, SEED_CONFIG, ours, reduced)  # a no-op after the study
    print(f"\n== kscan: {KSCAN_MODEL} {KSCAN_VARIANT}, k = {low}..{high}", flush=True)
    rows = [f"results/kscan/{KSCAN_MODEL}/{KSCAN_VARIANT}/k{k}.tsv" for k in ks]
    workflow_seconds = snakemake(run_dir, SEED_CONFIG, ours, *rows, "--forcerun", "scan_k",
                                 "--allowed-rules", "scan_k")
    scan = pd.concat([pd.read_csv(run_dir / row, sep="\t") for row in rows]).set_index("k")
    print(f"workflow: {len(ks)} scan_k jobs in {workflow_seconds:.1f} s (snakemake start included)",
          flush=True)
    X = np.load(run_dir / reduced)
    notebook = notebook_scan(X, ks, config["seed"])
    notebook_seconds = notebook["seconds"].sum()
    print(f"  (notebook: {notebook_seconds:.1f} s; {machine_load()})")
    table = pd.DataFrame({
        "notebook_s": notebook["seconds"],
        "inertia_notebook": notebook["inertia"], "inertia_ours": scan["inertia"],
        "inertia_ratio": scan["inertia"] / notebook["inertia"],
        "ch_notebook": notebook["calinski_harabasz"], "ch_ours": scan["calinski_harabasz"],
        "db_notebook": notebook["davies_bouldin"], "db_ours": scan["davies_bouldin"],
    })
    print(table.to_markdown(floatfmt=".4g"))
    speedup = notebook_seconds / workflow_seconds
    print(f"notebook: {notebook_seconds:.1f} s; workflow: {workflow_seconds:.1f} s; "
          f"notebook / workflow = {speedup:.2f} x")
    where = f"seed-scale k-scan {KSCAN_MODEL} {KSCAN_VARIANT}, k = {low}..{high}"
    targets.append((f"{where}: notebook time / workflow time", f"{speedup:.2f} x",
                    f">= {SEED_KSCAN_SPEEDUP} x", speedup >= SEED_KSCAN_SPEEDUP))
    inertia_targets(table["inertia_ratio"], where, targets)


def run_pca(out, targets):
    """Part 'pca': benchmarks/pca_vs_sklearn.py on the widest model."""
    ingested = out / "run" / "results" / "ingest" / f"{PCA_MODEL}.npy"
    snakemake(out / "run", SEED_CONFIG, Revision(REPO, "ours"), str(ingested.relative_to(out / "run")))
    print(f"\n== pca: {PCA_MODEL} to {PCA_COMPONENTS} components", flush=True)
    result = pca_vs_sklearn.compare(ingested, PCA_COMPONENTS, incremental=True,
                                    pickle_path=out / "data" / "descriptors" / f"{PCA_MODEL}.pickle")
    targets.append(("PCA: IncrementalPCA time / workflow time",
                    f"{result['incremental'] / result['ours']:.1f} x", ">= 10 x",
                    result["incremental"] >= 10 * result["ours"]))
    targets.append(("PCA: sklearn default PCA time / workflow time",
                    f"{result['default'] / result['ours']:.1f} x", "> 1 x",
                    result["default"] > result["ours"]))
    targets.append(("PCA: explained variance against exact PCA",
                    f"{100 * result['explained_variance_gap']:+.4f} %", "within 0.1 %",
                    abs(result["explained_variance_gap"]) <= 0.001))
    targets.append(("PCA: largest principal angle, leading 50", f"{result['angle50']:.2f}°", "< 1°",
                    result["angle50"] < 1))


def baseline_worktree(revision):
    """Check ``revision`` out into a new temporary git worktree; its path."""
    path = Path(tempfile.mkdtemp(prefix="descluster-baseline-"))
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(path),
                    revision], check=True, capture_output=True)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--parts", nargs="+", default=PARTS[:-1], choices=PARTS,
                        help="parts to run, in the module's order (default: all but pca)")
    parser.add_argument("--baseline", metavar="REV",
                        help="also time this git revision's rules on the same data (study, small)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if {"study", "kscan", "pca"} & set(args.parts) and not (out / "data" / "images_paths.csv").exists():
        make_seed_data.main([str(out / "data")])
    worktree = baseline_worktree(args.baseline) if args.baseline else None
    # the baseline first: a cold page cache or a busier start would count against it
    revisions = ([Revision(worktree, "baseline")] if worktree else []) + [Revision(REPO, "ours")]
    targets = []
    try:
        for name, part in (("small", lambda: run_small(out, targets, revisions)),
                           ("determinism", lambda: run_determinism(out, targets)),
                           ("study", lambda: run_study(out, targets, revisions)),
                           ("kscan", lambda: run_kscan(out, targets)),
                           ("scheduler", lambda: run_scheduler(out, targets)),
                           ("pca", lambda: run_pca(out, targets))):
            if name in args.parts:
                part()
    finally:
        if worktree:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(worktree)],
                           check=False)
    print("\n== targets")
    table = pd.DataFrame(targets, columns=["target", "measured", "wanted", "met"])
    print(table.to_markdown(index=False))
    (out / "targets.json").write_text(json.dumps(targets, indent=1, default=lambda value: value.item()))
    return 0 if table["met"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
