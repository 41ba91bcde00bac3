"""Contact sheets of cluster members: nearest the centroid, random, farthest."""

import collections
import contextlib
import logging
import os
import signal
import stat
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

log = logging.getLogger(__name__)

TILE = (96, 72)
TILES_PER_ROW = 10
MAX_PIXELS = 40_000_000  # larger images are not decoded (about 120 MB as RGB)
DECODE_SECONDS = 10.0  # decoding one image stops after this (main thread only)
# raster formats Pillow decodes itself (no external program, unlike EPS)
FORMATS = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
# placeholder reasons worth a warning: the file was not opened or not decoded on purpose
_REFUSED = ("outside root", "not a file", "too large", "timed out")
_LABEL_WIDTH = 70
_BACKGROUND = (250, 250, 250)


def image_file(root, path):
    """The file an image path names under ``root``, with symlinks resolved.

    Parameters
    ----------
    root : path or None
        images.root.
    path : str
        Normalised image path (forward slashes, relative to ``root``).

    Returns
    -------
    file : Path or None
        None when the image must not be opened.
    reason : str or None
        Why not: 'no images.root', or 'outside root' for a path that leads out of
        ``root`` ('..', an absolute path, a symlink pointing elsewhere).
    """
    if not root:
        return None, "no images.root"
    base = os.path.realpath(root)
    file = os.path.realpath(os.path.join(base, path))
    if file == base or os.path.commonpath([base, file]) != base:
        return None, "outside root"
    return Path(file), None


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise TimeoutError inside the block after ``seconds``.

    Uses SIGALRM, so it limits only the main thread and only when no other timer is
    set; elsewhere the block runs unlimited. The previous handler is restored.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _open_regular_file(file):
    """A binary handle on ``file`` if it is a regular file, else None.

    Checked before opening (a FIFO or device is never opened) and again on the open
    handle; the open neither blocks nor follows a symlink put there meanwhile.
    """
    if not stat.S_ISREG(os.stat(file).st_mode):
        return None
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    handle = os.fdopen(os.open(file, flags), "rb")
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        return None
    return handle


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


def original_problem(root, path):
    """Whether the pages may show an image's original file, checked as :func:`load_tile`
    reads it but without decoding: under ``root`` after symlinks, a regular file, a format
    in :data:`FORMATS` whose header declares at most :data:`MAX_PIXELS`.

    Returns
    -------
    problem : str or None
        None when the original may be shown; else the reason, as :func:`load_tile` names it.
    """
    try:
        file, problem = image_file(root, path)
        if file is None:
            return problem
        handle = _open_regular_file(file)
        if handle is None:
            return "not a file"
        with handle, Image.open(handle, formats=FORMATS) as image:
            return "too large" if image.width * image.height > MAX_PIXELS else None
    except FileNotFoundError:
        return "missing"
    except Image.DecompressionBombError:
        return "too large"
    except Exception:  # noqa: BLE001 - any header the decoder refuses: the original is not shown
        return "unreadable"


def load_tile(root, path, size=TILE):
    """Read one image as a tile of ``size``; any image that cannot be shown gives a placeholder.

    Only regular files under ``root`` are opened, only formats in :data:`FORMATS` are
    decoded, images over :data:`MAX_PIXELS` are not decoded, and decoding stops after
    :data:`DECODE_SECONDS`. No failure of the decoder escapes.

    Returns
    -------
    tile : PIL.Image.Image (RGB)
    problem : str or None
        None when the image was read; else the placeholder's reason: 'no images.root',
        'outside root', 'missing', 'not a file', 'too large', 'timed out' or 'unreadable'.
    """
    try:
        file, problem = image_file(root, path)
        if file is None:
            return placeholder_tile(path, problem, size), problem
        handle = _open_regular_file(file)
        if handle is None:
            return placeholder_tile(path, "not a file", size), "not a file"
        with handle, Image.open(handle, formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                return placeholder_tile(path, "too large", size), "too large"
            image.draft("RGB", size)  # JPEG: decode at a reduced scale, faster and smaller
            with _time_limit(DECODE_SECONDS):
                image.load()
            tile = ImageOps.pad(image.convert("RGB"), size, color=_BACKGROUND)
        return tile, None
    except FileNotFoundError:
        return placeholder_tile(path, "missing", size), "missing"
    except TimeoutError:
        return placeholder_tile(path, "timed out", size), "timed out"
    except Image.DecompressionBombError:
        return placeholder_tile(path, "too large", size), "too large"
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a placeholder, never a failed job
        log.debug("gallery: %s unreadable (%s: %s)", path, type(exc).__name__, exc)
        return placeholder_tile(path, "unreadable", size), "unreadable"


def _ends(values, n, last=False):
    """Positions of the ``n`` smallest ``values`` in stable order (ties by position, or by
    position down with ``last``): what a stable argsort's first ``n`` would be, in O(m)."""
    threshold = np.partition(values, n - 1)[n - 1]
    candidates = np.flatnonzero(values <= threshold)
    if last:
        candidates = candidates[::-1]
    return candidates[np.argsort(values[candidates], kind="stable")][:n]


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
    distances = np.asarray(distances)
    if len(distances) < 3 * n:  # too few to keep the random row apart: sort them all
        order = np.argsort(distances, kind="stable")
        nearest, farthest = order[:n], order[::-1][:n]
        pool = order
    else:  # in O(m): a cluster may hold most of 416,314 images
        nearest, farthest = _ends(distances, n), _ends(-distances, n, last=True)
        rest = np.ones(len(distances), dtype=bool)
        rest[nearest] = rest[farthest] = False
        pool = np.flatnonzero(rest)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))
    return {"nearest": nearest, "random": chosen, "farthest": farthest}


def contact_sheet(rows, root, title):
    """A labelled grid of tiles, one row per kind; images that cannot be shown are placeholders.

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
    problems = collections.Counter()
    for r, (label, paths) in enumerate(rows.items()):
        top = 18 + r * (TILE[1] + 2)
        draw.text((4, top + TILE[1] // 2 - 5), label, fill=(0, 0, 0))
        for c, path in enumerate(paths[:TILES_PER_ROW]):
            tile, problem = load_tile(root, path)
            if problem:
                problems[problem] += 1
            sheet.paste(tile, (_LABEL_WIDTH + c * (TILE[0] + 2), top))
    refused = [f"{problems[reason]} {reason}" for reason in _REFUSED if problems[reason]]
    if refused:
        log.warning("%s: images not opened or not decoded (placeholders shown): %s",
                    title, ", ".join(refused))
    return sheet, sum(problems.values())


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
