"""Figures: explained-variance curves and k-scan index curves."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from descluster.files import atomic_output  # noqa: E402

VARIANCE_MARKS = (0.5, 0.75, 0.9, 0.95)
_INDICES = [
    ("inertia", "inertia (lower = tighter)"),
    ("calinski_harabasz", "Calinski-Harabasz (higher = better)"),
    ("davies_bouldin", "Davies-Bouldin (lower = better)"),
    ("silhouette", "silhouette (higher = better)"),
]


def _save(fig, path):
    with atomic_output(path) as tmp:
        # fixed metadata so that identical inputs give identical bytes
        fig.savefig(tmp, dpi=110, metadata={"Software": None})
    plt.close(fig)


def plot_explained_variance(ratio, variants, model, path):
    """Cumulative explained variance against the number of components.

    Parameters
    ----------
    ratio : ndarray of shape (n_curve,)
        Explained-variance ratio per component.
    variants : list of (str, int)
        Variant names and their component counts, marked on the curve.
    """
    cumulative = np.cumsum(ratio)
    components = np.arange(1, len(ratio) + 1)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(components, cumulative, color="tab:blue", lw=1.8)
    for mark in VARIANCE_MARKS:
        reached = np.flatnonzero(cumulative >= mark)
        if reached.size:
            n = reached[0] + 1
            ax.axhline(mark, color="grey", lw=0.6, ls=":")
            ax.annotate(f"{mark:.0%}: {n}", (n, mark), textcoords="offset points",
                        xytext=(4, -11), fontsize=8, color="grey")
    for name, n in variants:
        ax.axvline(n, color="tab:red", lw=0.9, ls="--")
        ax.annotate(f"{name}\n{cumulative[n - 1]:.1%}", (n, 0.05), fontsize=8, color="tab:red",
                    textcoords="offset points", xytext=(3, 0))
    ax.set_xscale("log" if len(ratio) > 60 else "linear")
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("number of principal components")
    ax.set_ylabel("cumulative explained variance")
    ax.set_title(f"{model}: explained variance")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def _mark_final_ks(ax, final_ks):
    for k in final_ks:
        ax.axvline(k, color="grey", lw=0.8, ls=":", zorder=0)


def kscan_title(model, suggestions):
    """The k-scan figure's title: what the star is, as advice or not, and edge optima.

    ``suggestions`` is suggested_k.tsv's rows of the model (``pca``, ``note``, ``advice``
    from :func:`descluster.steps.kscan.summarize_kscan`). With ground truth the star is
    the lowest Davies-Bouldin, an index value (the advice is the recommendation); without,
    it is the k-scan's suggestion, said as such. Returns (title, has_edge_note).
    """
    truth = suggestions["advice"].str.startswith("none").any()
    star = ("star = lowest Davies-Bouldin, an index value: which clustering to label is the "
            "recommendation (recommended.tsv)" if truth else
            "star = the k-scan's suggestion: lowest Davies-Bouldin (no ground truth to measure by)")
    title = f"{model}: k-scan (dotted = final k)\n{star}"
    edge = [f"{p}: {n}" for p, n in zip(suggestions["pca"], suggestions["note"]) if n]
    if edge:
        title += "\n" + "; ".join(edge)
    return title, bool(edge)


def plot_kscan(scan, suggestions, model, path, final_ks=()):
    """Every validity index against k, one line per PCA variant, the lowest Davies-Bouldin
    starred (an index value with ground truth, the k-scan's suggestion without: see
    :func:`kscan_title`).

    Parameters
    ----------
    scan : DataFrame
        k-scan rows of one model (pca, n_components, k and the four indices).
    suggestions : DataFrame
        Rows of that model of suggested_k.tsv (:func:`descluster.clustering.suggest_k`
        with ``note`` and ``advice``).
    final_ks : sequence of int
        k of the configured final clusterings, drawn as dotted lines.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    suggested = dict(zip(suggestions["pca"], suggestions["suggested_k"]))
    for (column, label), ax in zip(_INDICES, axes.ravel()):
        _mark_final_ks(ax, final_ks)
        for pca, group in scan.groupby("pca", sort=False):
            group = group.sort_values("k")
            line, = ax.plot(group["k"], group[column], marker="o", ms=2.5, lw=1.2,
                            label=f"{pca} ({int(group['n_components'].iloc[0])} comp.)")
            k = suggested.get(pca)
            if k is not None and column == "davies_bouldin":
                ax.plot([k], group.loc[group["k"] == k, column], marker="*", ms=13,
                        color=line.get_color(), markeredgecolor="black")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("number of clusters k")
    axes[0, 0].legend(fontsize=8)
    title, edge = kscan_title(model, suggestions)
    fig.suptitle(title, fontsize=10, color="tab:red" if edge else "black")
    fig.tight_layout()
    _save(fig, path)


def plot_labelling_effort(effort, model, path, final_ks=()):
    """Purity (share of images right when each cluster is named after its majority) against k.

    Parameters
    ----------
    effort : DataFrame
        ``model, pca, k, attribute, purity`` rows of one model.
    final_ks : sequence of int
        k of the configured final clusterings, drawn as dotted lines.
    """
    attributes = list(dict.fromkeys(effort["attribute"]))
    fig, axes = plt.subplots(1, max(1, len(attributes)), figsize=(4.2 * max(1, len(attributes)), 3.8),
                             sharey=True, squeeze=False)
    for attribute, ax in zip(attributes, axes[0]):
        _mark_final_ks(ax, final_ks)
        for pca, group in effort[effort["attribute"] == attribute].groupby("pca", sort=False):
            group = group.sort_values("k")
            ax.plot(group["k"], group["purity"], marker="o", ms=2.5, lw=1.2, label=pca)
        ax.set_title(attribute, fontsize=10)
        ax.set_xlabel("clusters named (k)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("images right (purity)")
    axes[0, 0].set_ylim(0, 1.01)
    axes[0, 0].legend(fontsize=8)
    if not attributes:
        axes[0, 0].text(0.5, 0.5, "no ground truth", ha="center", transform=axes[0, 0].transAxes)
    fig.suptitle(f"{model}: what naming k clusters buys (dotted = final k)")
    fig.tight_layout()
    _save(fig, path)


def plot_agreement(ari, names, path):
    """Heatmap of the adjusted Rand index between clusterings.

    Parameters
    ----------
    ari : ndarray of shape (m, m)
    names : list of str, length m
    """
    size = max(5.0, 0.38 * len(names) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(ari, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    if len(names) <= 25:
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{ari[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if ari[i, j] < 0.6 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="adjusted Rand index")
    ax.set_title("agreement between clusterings (1 = the same partition)")
    fig.tight_layout()
    _save(fig, path)
