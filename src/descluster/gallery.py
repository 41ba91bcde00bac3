"""Contact sheets of cluster members: nearest the centroid, random, farthest."""

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

TILE = (96, 72)
TILES_PER_ROW = 10
ROW_KINDS = ("nearest", "random", "farthest")
_LABEL_WIDTH = 70
_BACKGROUND = (250, 250, 250)


def image_file(root, path):
    """The file of an image path (forward slashes) under ``root``; None without a root."""
    return Path(root) / path if root else None


def placeholder_tile(path, reason, size=TILE):
    """A grey tile that shows an image could not be read, with its path and the reason."""
    tile = Image.new("RGB", size, (205, 205, 205))
    draw = ImageDraw.Draw(tile)
    draw.line([(0, 0), (size[0] - 1, size[1] - 1)], fill=(170, 170, 170), width=2)
    draw.line([(0, size[1] - 1), (size[0] - 1, 0)], fill=(170, 170, 170), width=2)
    name = str(path)
    lines = [reason] + [name[i:i + 15] for i in range(max(0, len(name) - 45), len(name), 15)]
    for i, text in enumerate(lines[:4]):
        draw.text((3, 3 + 11 * i), text, fill=(60, 60, 60))
    return tile


def load_tile(root, path, size=TILE):
    """Read one image as a tile of ``size``; a missing or unreadable file gives a placeholder.

    Returns
    -------
    tile : PIL.Image.Image (RGB)
    ok : bool
        False when the placeholder was used.
    """
    file = image_file(root, path)
    if file is None:
        return placeholder_tile(path, "no images.root"), False
    try:
        with Image.open(file) as image:
            image.load()
            tile = ImageOps.pad(image.convert("RGB"), size, color=_BACKGROUND)
        return tile, True
    except FileNotFoundError:
        return placeholder_tile(path, "missing"), False
    except (UnidentifiedImageError, OSError, ValueError):
        return placeholder_tile(path, "unreadable"), False


def pick_members(distances, n, seed):
    """Rows of one cluster to show: nearest the centroid, a random sample, farthest.

    Parameters
    ----------
    distances : ndarray of shape (m,)
        Distance of each member to the centroid.
    n : int
        Members per row.

    Returns
    -------
    dict of str -> ndarray of int
        Positions into ``distances`` for "nearest", "random" (fixed seed, among the
        others when there are enough) and "farthest" (farthest first).
    """
    order = np.argsort(distances, kind="stable")
    nearest, farthest = order[:n], order[::-1][:n]
    rest = np.setdiff1d(order, np.concatenate([nearest, farthest]))
    pool = rest if len(rest) >= n else order
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))
    return {"nearest": nearest, "random": chosen, "farthest": farthest}


def contact_sheet(rows, root, title):
    """A labelled grid of tiles, one row per kind.

    Parameters
    ----------
    rows : dict of str -> list of str
        Row label -> image paths (forward slashes, relative to ``root``).
    root : path or None

    Returns
    -------
    sheet : PIL.Image.Image
    n_placeholders : int
    """
    width = _LABEL_WIDTH + TILES_PER_ROW * (TILE[0] + 2)
    height = 18 + len(rows) * (TILE[1] + 2)
    sheet = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 3), title, fill=(0, 0, 0))
    n_placeholders = 0
    for r, (label, paths) in enumerate(rows.items()):
        top = 18 + r * (TILE[1] + 2)
        draw.text((4, top + TILE[1] // 2 - 5), label, fill=(0, 0, 0))
        for c, path in enumerate(paths[:TILES_PER_ROW]):
            tile, ok = load_tile(root, path)
            n_placeholders += not ok
            sheet.paste(tile, (_LABEL_WIDTH + c * (TILE[0] + 2), top))
    return sheet, n_placeholders


def nearest_clusters(centroids, n=3):
    """For each centroid, the ``n`` closest other centroids.

    Parameters
    ----------
    centroids : ndarray of shape (k, p)

    Returns
    -------
    ndarray of shape (k, min(n, k - 1)), int
    """
    centroids = centroids.astype(np.float64)
    distances = np.linalg.norm(centroids[:, None] - centroids[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    return np.argsort(distances, axis=1, kind="stable")[:, :min(n, len(centroids) - 1)]
