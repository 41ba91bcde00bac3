"""The maps at seed scale: layout time and memory for the study's six variants, the size of a
map's data, how well the map keeps neighbours, and the first paint of its page in Chromium.

    python benchmarks/map_scale.py [--out benchmarks/out/map] [--n-images 416314]

Data: the demo generator's osnet descriptors (512 columns) for 416,314 images, reduced by
PCA (fitted on 50,000 rows) to each of the study's component counts (250, 150, 70, 20, 4,
2); making them is not timed. Then:

layout  each variant's ``layout_map`` step in its own process with one BLAS thread, two
        at a time as ``snakemake --cores 2`` runs them: wall time of all six, per job its
        time and peak resident memory (VmHWM, as the process reports it).
draw    ``draw_map`` of the 150-component variant with six clusterings (k = 10, 13, 15,
        30, 40, 50, as the study's osnet), the four ground-truth attributes, the outlier
        kind and two outlier scores: time, peak memory, size of the data script and of
        the run's paths script.
paint   the page in headless Chromium (Playwright driving /usr/bin/chromium), three times:
        first paint of all points (``data-first-paint-ms``, from navigation start) and
        whether every point was painted.
quality at 150 components, on 20,000 rows: share of each row's 10 nearest neighbours in
        the reduced space that are among its 10 nearest on the map, and the share of its 10
        nearest on the map with its own ground-truth type / colour / k = 50 cluster; the same
        for a plain 2-D PCA projection and (for the labels) the reduced space itself.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from descluster import clustering, demo, labels, site
from descluster.ingest import normalise_path

SEED_N_IMAGES = 416_314
STUDY = [("efficientnet-b7", 250), ("osnet", 150), ("vdc_color", 4), ("vdc_color", 70),
         ("vdc_type", 2), ("vdc_type", 20)]
DRAWN = 150  # the variant whose page is drawn and painted
DRAWN_KS = (10, 13, 15, 30, 40, 50)
ATTRIBUTES = ["type", "colour", "view", "camera"]
CHROMIUM = "/usr/bin/chromium"
BUDGET_LAYOUT_S, BUDGET_MB, BUDGET_PAINT_S = 240, 3072, 5.0


def make_data(out, n_images, seed=0):
    """Reduced matrices (one per component count), images.parquet, attributes.parquet."""
    reduced = {d: out / "data" / f"reduced{d}.npy" for _, d in STUDY}
    if all(path.exists() for path in reduced.values()) and (out / "data" / "images.parquet").exists():
        return reduced
    started = time.perf_counter()
    (out / "data").mkdir(parents=True, exist_ok=True)
    attributes = demo.make_attributes(n_images, seed)
    X = demo.make_descriptors(attributes, "osnet", seed)
    mean = X.mean(axis=0)
    sample = X[np.random.default_rng(seed).choice(len(X), min(50_000, len(X)), replace=False)] - mean
    _, _, axes = np.linalg.svd(sample, full_matrices=False)
    for d, path in reduced.items():
        Z = np.empty((len(X), d), dtype=np.float32)
        for start in range(0, len(X), 65536):
            Z[start:start + 65536] = (X[start:start + 65536] - mean) @ axes[:d].T
        np.save(path, Z)
    paths = attributes["paths"].map(normalise_path)
    pd.DataFrame({"row": np.arange(len(paths)), "paths": paths,
                  "path_original": attributes["paths"]}).to_parquet(out / "data" / "images.parquet")
    truth = attributes.assign(paths=paths)[["paths", *ATTRIBUTES, "outlier"]]
    truth.to_parquet(out / "data" / "attributes.parquet")
    print(f"data: {n_images} images, {len(reduced)} reduced matrices in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return reduced


# The child prints its own peak resident memory (VmHWM, kB) last: the rusage of a child
# forked from this process would count this process's memory at the fork.
PEAK = "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"


def start(code, arguments, log):
    """A Python process running ``code`` with one BLAS thread (as a rule with threads: 1)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", f"{code}; {PEAK}", *map(str, arguments)],
                            env=env, stdout=subprocess.PIPE, stderr=log, text=True)


def peak_mb(process):
    return int(process.stdout.read().split()[-1]) / 1024


def run_layouts(out, reduced):
    """All six layouts, two processes at a time: (wall s, rows of per-job figures)."""
    queue = [(f"{m}/pca{d}", reduced[d], out / "layout" / f"{m}_pca{d}.npy") for m, d in STUDY]
    (out / "layout").mkdir(parents=True, exist_ok=True)
    running, rows = {}, []
    started = time.perf_counter()
    with open(out / "layout.log", "w") as log:
        while queue or running:
            while queue and len(running) < 2:
                name, source, target = queue.pop(0)
                process = start("import sys; from descluster.steps.map import layout_map; "
                                "layout_map(reduced_npy=sys.argv[1], seed=0, out_npy=sys.argv[2])",
                                [source, target], log)
                running[process.pid] = (process, name, source, time.perf_counter())
            pid, status = os.waitpid(-1, 0)
            process, name, source, began = running.pop(pid)
            seconds = time.perf_counter() - began
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise SystemExit(f"layout of {name} failed: see {out / 'layout.log'}")
            rows.append({"variant": name, "columns": np.load(source, mmap_mode="r").shape[1],
                         "seconds": round(seconds, 1), "peak_mb": round(peak_mb(process))})
    return time.perf_counter() - started, rows


def drawn_inputs(out, reduced_npy):
    """Clusterings, templates and outlier scores of the drawn variant (made, not timed)."""
    folder = out / "draw"
    folder.mkdir(parents=True, exist_ok=True)
    X = np.load(reduced_npy, mmap_mode="r")
    paths = pd.read_parquet(out / "data" / "images.parquet", columns=["paths"])["paths"]
    made = []
    for k in DRAWN_KS:
        assignments, template = folder / f"k{k}.parquet", folder / f"osnet_pca{DRAWN}_k{k}.yaml"
        if not assignments.exists():
            fit = clustering.fit_kmeans(X, k, 0, n_init=1, max_iter=30, fit_sample=256 * k)
            cluster, distance = clustering.assign(X, fit.centroids)
            pd.DataFrame({"paths": paths, "cluster": cluster, "distance": distance}).to_parquet(
                assignments)
            sizes = clustering.cluster_sizes(cluster, distance, k)
            template.write_text(labels.template("osnet", f"pca{DRAWN}", k, sizes, ATTRIBUTES),
                                encoding="utf-8")
        made.append({"name": labels.clustering_id("osnet", f"pca{DRAWN}", k),
                     "assignments": assignments, "template": template})
    outliers = folder / "outliers.parquet"
    if not outliers.exists():
        distance = pd.read_parquet(made[-1]["assignments"], columns=["distance"])["distance"]
        score = distance.to_numpy(dtype=np.float64)
        pd.DataFrame({"paths": paths, f"score_osnet_pca{DRAWN}": score,
                      "n_models_flagging": (score > np.quantile(score, 0.99)).astype(int),
                      "combined_score": score, "flag": score > np.quantile(score, 0.99)}
                     ).to_parquet(outliers)
    return made, outliers


def run_draw(out, clusterings, outliers):
    """draw_map of the drawn variant in its own process: (seconds, peak MB, page path)."""
    report = out / "report"
    report.mkdir(parents=True, exist_ok=True)
    page = report / f"map_osnet_pca{DRAWN}.html"
    images = out / "data" / "images.parquet"
    site.write_paths_script(pd.read_parquet(images, columns=["paths"])["paths"], [],
                            report / "paths.js")  # write_paths' job: once per run, not timed
    arguments = {
        "layout_npy": str(out / "layout" / f"osnet_pca{DRAWN}.npy"),
        "images_parquet": str(images), "paths_script": str(report / "paths.js"),
        "clusterings": [{k: str(v) for k, v in c.items()} for c in clusterings],
        "targets": [{"name": c["name"], "template": str(c["template"]), "label_file": None}
                    for c in clusterings],
        "label_entries": [], "allowed": {},
        "attributes_parquet": str(out / "data" / "attributes.parquet"),
        "outliers_parquet": str(outliers), "labels_parquet": None, "images_root": None,
        "model": "osnet", "variant": f"pca{DRAWN}", "out_page": str(page),
        "out_data": str(report / f"map_osnet_pca{DRAWN}.js")}
    began = time.perf_counter()
    with open(out / "draw.log", "w") as log:
        process = start("import json, sys; from descluster.steps.map import draw_map; "
                        "draw_map(**json.loads(sys.argv[1]))", [json.dumps(arguments)], log)
        memory = peak_mb(process)
        if process.wait() != 0:
            raise SystemExit(f"draw_map failed: see {out / 'draw.log'}")
    seconds = time.perf_counter() - began
    site.copy_assets(report / "files" / "assets")  # what build_site writes: every browser file
    return seconds, memory, page


def first_paints(page, n_images, repeats=3):
    """First paint (ms from navigation start) of the map page, ``repeats`` times, and whether
    every point was painted each time."""
    from playwright.sync_api import sync_playwright

    times, complete = [], True
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1400, "height": 950})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                          else r.abort())
            tab = context.new_page()
            tab.goto(page.resolve().as_uri())
            tab.wait_for_selector("#map[data-painted]", timeout=60_000)
            times.append(int(tab.get_attribute("body", "data-first-paint-ms")))
            complete &= int(tab.get_attribute("#map", "data-painted")) == n_images
            tab.wait_for_selector("body[data-paths=loaded]", timeout=60_000)
            if not (page.parent / "map_screenshot.png").exists():
                tab.screenshot(path=str(page.parent / "map_screenshot.png"))
            context.close()
        browser.close()
    return times, complete


def quality(out, reduced_npy, n_rows=20_000, k=10, seed=0):
    """Neighbour and label agreement of the map, a 2-D PCA and the reduced space (a sample)."""
    from sklearn.neighbors import NearestNeighbors

    X = np.load(reduced_npy, mmap_mode="r")
    rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], min(n_rows, X.shape[0]),
                                                      replace=False))
    space = np.asarray(X[rows], dtype=np.float32)
    layout_ = np.load(out / "layout" / f"osnet_pca{DRAWN}.npy")[rows]
    pca2 = space[:, :2]  # the reduced matrix's leading two components: a plain PCA map
    truth = pd.read_parquet(out / "data" / "attributes.parquet").iloc[rows]
    cluster = pd.read_parquet(out / "draw" / f"k{DRAWN_KS[-1]}.parquet")["cluster"].to_numpy()[rows]
    targets = {"type": truth["type"].to_numpy(), "colour": truth["colour"].to_numpy(),
               f"k{DRAWN_KS[-1]} cluster": cluster}

    def neighbours(points):
        return NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(
            points, return_distance=False)[:, 1:]

    reference = neighbours(space)
    table = []
    for name, points in (("map", layout_), ("2-D PCA", pca2), ("reduced space", space)):
        near = reference if name == "reduced space" else neighbours(points)
        row = {"layout": name, "10-NN kept": float(np.mean(
            [len(np.intersect1d(a, b)) / k for a, b in zip(reference, near)]))}
        for target, values in targets.items():
            row[f"same {target}"] = float(np.mean(values[near] == values[:, None]))
        table.append(row)
    return pd.DataFrame(table).round(3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/map"))
    parser.add_argument("--n-images", type=int, default=SEED_N_IMAGES)
    args = parser.parse_args(argv)
    reduced = make_data(args.out, args.n_images)
    print(f"load average before the layouts: {os.getloadavg()[0]:.1f}", flush=True)
    wall, rows = run_layouts(args.out, reduced)
    layouts = pd.DataFrame(rows)
    print("\n== layout_map, two jobs at a time, one thread each\n" + layouts.to_markdown(index=False))
    clusterings, outliers = drawn_inputs(args.out, reduced[DRAWN])
    draw_s, draw_mb, page = run_draw(args.out, clusterings, outliers)
    data_mb = page.with_suffix(".js").stat().st_size / 1e6
    paths_mb = (page.parent / "paths.js").stat().st_size / 1e6
    paints, complete = first_paints(page, args.n_images)
    print("\n== map quality at 150 components (20,000 rows)\n" + quality(
        args.out, reduced[DRAWN]).to_markdown(index=False))
    targets = pd.DataFrame([
        ["all six layouts, wall (2 at a time)", f"{wall:.0f} s", f"<= {BUDGET_LAYOUT_S} s",
         wall <= BUDGET_LAYOUT_S],
        ["peak memory of a layout job", f"{layouts['peak_mb'].max():.0f} MB",
         f"<= {BUDGET_MB} MB", layouts["peak_mb"].max() <= BUDGET_MB],
        [f"draw_map of osnet/pca{DRAWN} ({len(DRAWN_KS)} clusterings)",
         f"{draw_s:.1f} s, {draw_mb:.0f} MB", f"<= {BUDGET_MB} MB", draw_mb <= BUDGET_MB],
        ["map data script / run's paths script", f"{data_mb:.1f} MB / {paths_mb:.1f} MB", "", True],
        [f"first paint of {args.n_images:,} points (3 loads)",
         " / ".join(f"{t / 1000:.2f} s" for t in paints) + ("" if complete else " (INCOMPLETE)"),
         f"<= {BUDGET_PAINT_S} s", complete and max(paints) <= BUDGET_PAINT_S * 1000],
    ], columns=["target", "measured", "wanted", "met"])
    print("\n== targets\n" + targets.to_markdown(index=False))
    print(f"\nload average after: {os.getloadavg()[0]:.1f}; screenshot: "
          f"{page.parent / 'map_screenshot.png'}")
    return 0 if targets["met"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
