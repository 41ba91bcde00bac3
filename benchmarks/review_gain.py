"""The review page, measured: does fixing the images it lists first raise accuracy more than
fixing as many images picked at random?

    python benchmarks/review_gain.py [--demo-images 20000] [--share 0.02]

An oracle reviewer (it always knows the true value) fixes the ``--share`` of the images
that a labelled clustering's review page lists first for an attribute, reading its lists
in the page's order (:func:`descluster.site.review_lists`, from labels propagated by
:func:`descluster.labels.propagate`: the images a second labelled clustering names
otherwise when there is one, then the least confident), and, for comparison, the same
number picked at random. Each clustering is named as a person would name it, each
cluster after its members' most common true value. Per set, model, k and attribute it
prints the accuracy of the propagated labels, the gain of fixing the review page's first
images, the expected gain of fixing random ones (share x errors: exact, no draw), their
ratio, the ceiling (every fixed image a wrong one) and the largest ratio it allows.
``low_ratio``: the same reviewer reading the least confident alone (the page's other
list; its order where there is no second labelled clustering).

A review order tried and not taken is measured beside it (kept here, as
benchmarks/label_confidence.py keeps the former confidence): ``agree_ratio``, the
images least likely to have their value under a linear discriminant fitted to the
other images' propagated values (:func:`value_agreement`, out of fold), and
``combined_ratio``, the sum of the ranks of that and of the label confidence.

Sets: the demo (``descluster.demo``, its vehicle models and attributes: type, view,
colour) and, when present beside the repository, the real sets of shared/real: the office
sets (office-dslr: googlenet, caffenet, surf; office-webcam: googlenet, surf; attribute
``object``) and the 15 MVTec-AD categories pooled (resnet18, 5,354 photos; attribute
``category``, which product the photo shows). PCA to 90 % of the variance (the demo: the
demo config's component counts), KMeans (seed 0, n_init 3) at each k.
"""

import argparse
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.decomposition import PCA

from descluster import clustering, demo, labels, site
from descluster.files import load_descriptor_array

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real"
OFFICE = {"office-dslr": ["googlenet", "caffenet", "surf"],
          "office-webcam": ["googlenet", "surf"]}
OFFICE_KS = (10, 30)
MVTEC = "mvtec-ad-resnet18"
# demo model -> (PCA components of config/config.yaml, k of its final clusterings, attributes)
DEMO = {"osnet": (150, (10, 30, 50), ("type", "view", "colour")),
        "vdc_color": (70, (8,), ("colour",)),
        "vdc_type": (20, (8,), ("type",)),
        "efficientnet-b7": (250, (20,), ())}
# the second labelled clustering of an attribute, as a team would label it (colour from
# vdc_color, type from vdc_type, view from efficientnet-b7 beside osnet): the review page's
# disagreements
DEMO_SECOND = {("osnet", k): {"type": ("vdc_type", 8), "colour": ("vdc_color", 8),
                              "view": ("efficientnet-b7", 20)} for k in (10, 30, 50)}
DEMO_SECOND.update({("vdc_color", 8): {"colour": ("osnet", 30)},
                    ("vdc_type", 8): {"type": ("osnet", 30)}})
SEED = 0
TARGET_RATIO = 3.0


def reduce(X, n_components):
    """(n, c) float32 PCA projection of X (n, d); ``n_components`` as scikit-learn takes it."""
    reduced = PCA(n_components, svd_solver="full", random_state=SEED).fit_transform(
        np.asarray(X, dtype=np.float32))
    return np.ascontiguousarray(reduced, dtype=np.float32)


def majority_names(cluster, truth, k):
    """{cluster: its members' most common known true value} (ties: alphabetical)."""
    known = truth != ""
    counts = pd.crosstab(cluster[known], truth[known])
    return {int(c): str(v) for c, v in counts.idxmax(axis=1).items()}


def oracle_file(cluster, truth, k, attribute):
    """The label file of a person who names each cluster after its majority value."""
    return labels.LabelFile({attribute: majority_names(cluster, truth, k)}, set(), [])


def value_agreement(Z, values, seed, n_folds=5, fit_rows=50_000):
    """The tried review order: out of fold, the probability that each image has its
    propagated value under a linear discriminant (shared covariance, Ledoit-Wolf
    shrinkage) fitted to the other folds' images (at most ``fit_rows`` of them).

    Parameters
    ----------
    Z : ndarray of shape (n, p), float32
    values : ndarray of shape (n,), object ('' = unknown)

    Returns
    -------
    ndarray of shape (n,), float64
        NaN where the value is unknown; 0 where no other fold has the value.
    """
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    out = np.full(len(values), np.nan)
    known = np.flatnonzero(values != "")
    classes, y = np.unique(values[known].astype(str), return_inverse=True)
    if len(classes) < 2:
        out[known] = 1.0
        return out
    rng = np.random.default_rng(seed)
    folds = np.array_split(rng.permutation(len(known)), min(n_folds, len(known)))
    for fold, held in enumerate(folds):
        train = np.concatenate([f for i, f in enumerate(folds) if i != fold])
        train = np.sort(rng.choice(train, fit_rows, replace=False) if len(train) > fit_rows
                        else train)
        fitted = np.unique(y[train])
        if len(fitted) < 2:
            out[known[held]] = np.isin(y[held], fitted).astype(float)
            continue
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
        with warnings.catch_warnings():  # a value held by one image: its class has no spread
            warnings.simplefilter("ignore", UserWarning)
            lda.fit(np.asarray(Z[known[train]], dtype=np.float64), y[train])
        proba = lda.predict_proba(np.asarray(Z[known[held]], dtype=np.float64))
        column = np.minimum(np.searchsorted(lda.classes_, y[held]), len(lda.classes_) - 1)
        has = lda.classes_[column] == y[held]
        out[known[held]] = np.where(has, proba[np.arange(len(held)), column], 0.0)
    return out


def review_gain(Z, cluster, centroids, truth, attribute, share, other=None):
    """One attribute of one clustering: accuracy, and the gains of fixing ``share`` of the
    images, the review page's first ones or random ones.

    Parameters
    ----------
    Z : ndarray of shape (n, p), float32
    cluster : ndarray of shape (n,), int
    centroids : ndarray of shape (k, p), float32
    truth : ndarray of shape (n,), object ('' = unknown)
    other : ndarray of shape (n,), int, optional
        A second labelled clustering of the same images (named by the oracle too): the
        review page's list of disagreements.

    Returns
    -------
    dict
        n, n_fixed, accuracy, review_gain (the page's order), low_gain (the least
        confident alone), random_gain, ceiling (over the images with a known true value),
        agree_gain and combined_gain (the tried order, alone and with the confidence).
    """
    name = "bench/pca1/k1"
    label_file = oracle_file(cluster, truth, len(centroids), attribute)
    source = {"clustering": name, "file": "oracle", "labels": cluster, "centroids": centroids,
              "reduced": Z, "label_file": label_file}
    paths = np.array([f"i{row}" for row in range(len(Z))], dtype=object)
    columns, _ = labels.propagate(paths, [source])
    others = [] if other is None else [
        ("other/pca1/k1", oracle_file(other, truth, int(other.max()) + 1, attribute), other)]
    listed = site.review_lists(name, label_file, cluster, pd.DataFrame(columns), others, {},
                               limit=len(Z))[0]
    known = truth != ""
    n = int(known.sum())
    right = (columns[attribute] == truth) & known
    n_fixed = math.ceil(share * n)

    def gain(order):
        order = np.asarray(order, dtype=np.int64)
        order = order[known[order]][:n_fixed]  # the reviewer fixes images it can tell
        return int((~right[order]).sum()) / n

    confidence = columns[f"{attribute}_confidence"]
    agreement = value_agreement(Z, columns[attribute], SEED)
    labelled = np.flatnonzero(~np.isnan(agreement))

    def least(score):
        return labelled[np.argsort(score[labelled], kind="stable")]

    page_order = list(dict.fromkeys(r for kind in listed["order"] for r in listed[kind]["rows"]))
    return {"n": n, "n_fixed": n_fixed, "accuracy": right.sum() / n,
            "review_gain": gain(page_order), "low_gain": gain(listed["low"]["rows"]),
            "agree_gain": gain(least(agreement)),
            "combined_gain": gain(least(rankdata(confidence) + rankdata(agreement))),
            "random_gain": n_fixed / n * (n - int(right.sum())) / n,
            "ceiling": min(n_fixed, n - int(right.sum())) / n}


def clusterings(Z, ks):
    """(k, labels, centroids) of KMeans at each k (seed 0, n_init 3)."""
    for k in ks:
        centroids = clustering.fit_kmeans(Z, k, SEED, n_init=3, max_iter=300).centroids
        cluster, _ = clustering.assign(Z, centroids)
        yield k, cluster.astype(np.int64), centroids


def demo_rows(n_images, share):
    attributes = demo.make_attributes(n_images, SEED)
    fitted = {}
    for model, (components, ks, _) in DEMO.items():
        Z = reduce(demo.make_descriptors(attributes, model, SEED), components)
        for k, cluster, centroids in clusterings(Z, ks):
            fitted[model, k] = (Z, cluster, centroids)
    second = {model_k: {attribute: fitted[partner][1] for attribute, partner in by.items()}
              for model_k, by in DEMO_SECOND.items() if all(p in fitted for p in by.values())}
    rows = []
    for (model, k), (Z, cluster, centroids) in fitted.items():
        for attribute in DEMO[model][2]:
            truth = attributes[attribute].to_numpy(dtype=object)
            rows.append({"set": f"demo ({n_images})", "model": model, "k": k,
                         "attribute": attribute, **review_gain(
                             Z, cluster, centroids, truth, attribute, share,
                             second.get((model, k), {}).get(attribute))})
    return rows


def office_rows(share):
    rows = []
    for name, models in OFFICE.items():
        if not (REAL / name).is_dir():
            print(f"review_gain: {REAL / name} not found; skipped")
            continue
        truth = pd.read_csv(REAL / name / "attributes.csv")["object"].to_numpy(dtype=object)
        fitted = {}
        for model in models:
            Z = reduce(load_descriptor_array(REAL / name / "descriptors" / f"{model}.pickle"), 0.9)
            for k, cluster, centroids in clusterings(Z, OFFICE_KS):
                fitted[model, k] = (Z, cluster, centroids)
        for (model, k), (Z, cluster, centroids) in fitted.items():
            partner = fitted[models[1] if model == models[0] else models[0], k][1]
            rows.append({"set": name, "model": model, "k": k, "attribute": "object",
                         **review_gain(Z, cluster, centroids, truth, "object", share, partner)})
    return rows


def mvtec_rows(share):
    """The 15 MVTec-AD categories pooled: which product each photo shows."""
    root = REAL / MVTEC
    if not root.is_dir():
        print(f"review_gain: {root} not found; skipped")
        return []
    parts = sorted(p for p in root.iterdir() if (p / "descriptors").is_dir())
    X = np.vstack([load_descriptor_array(p / "descriptors" / "resnet18.pickle") for p in parts])
    truth = np.concatenate([np.full(len(pd.read_csv(p / "images_paths.csv")), p.name,
                                    dtype=object) for p in parts])
    Z = reduce(X, 0.9)
    return [{"set": "mvtec-ad", "model": "resnet18", "k": k, "attribute": "category",
             **review_gain(Z, cluster, centroids, truth, "category", share)}
            for k, cluster, centroids in clusterings(Z, OFFICE_KS)]


def summarise(table):
    """The table with the ratio of the gains and the largest ratio any reviewer could reach
    (every fixed image a wrong one: 1 / error rate, below 3 when more than a third of the
    labels are wrong)."""
    random = table["random_gain"].where(table["random_gain"] > 0)
    return table.assign(ratio=table["review_gain"] / random,
                        low_ratio=table["low_gain"] / random,
                        possible=table["ceiling"] / random,
                        agree_ratio=table["agree_gain"] / random,
                        combined_ratio=table["combined_gain"] / random)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-images", type=int, default=20000)
    parser.add_argument("--share", type=float, default=0.02,
                        help="share of the images the reviewer fixes")
    args = parser.parse_args()
    table = summarise(pd.DataFrame(demo_rows(args.demo_images, args.share)
                                   + office_rows(args.share) + mvtec_rows(args.share)))
    percent = {"accuracy", "review_gain", "random_gain", "ceiling", "low_gain"}
    ratios = {"ratio", "low_ratio", "possible", "agree_ratio", "combined_ratio"}
    ratio = lambda v: "-" if v != v else f"{v:.1f}x"  # noqa: E731
    print(table.drop(columns=["agree_gain", "combined_gain"]).to_string(index=False, formatters={
        **{c: (lambda v: f"{100 * v:.2f} %") for c in percent}, **{c: ratio for c in ratios}}))
    kind = np.select([table["set"].str.startswith("demo"), table["set"] == "mvtec-ad"],
                     ["demo", "mvtec-ad"], "office")
    for name, rows in table.groupby(kind):
        reachable = rows["possible"] >= TARGET_RATIO
        print(f"\n{name}: rows where {TARGET_RATIO:.0f}x is possible "
              f"(accuracy above {1 - 1 / TARGET_RATIO:.0%}): {int(reachable.sum())} of {len(rows)}")
        for column, what in (("ratio", "the review page (disagreements, then least confident)"),
                             ("low_ratio", "least confident alone"),
                             ("agree_ratio", "tried: discriminant agreement"),
                             ("combined_ratio", "tried: confidence + agreement ranks")):
            gains = {"ratio": "review_gain", "low_ratio": "low_gain",
                     "agree_ratio": "agree_gain", "combined_ratio": "combined_gain"}[column]
            reached = rows[column] >= TARGET_RATIO
            print(f"  {what}: {int(reached[reachable].sum())} of them reach "
                  f"{TARGET_RATIO:.0f}x ({int(reached.sum())} of all rows); median "
                  f"{rows[column].median():.1f}x; summed gain "
                  f"{rows[gains].sum() / rows['random_gain'].sum():.1f}x the random fixes'")


if __name__ == "__main__":
    main()
