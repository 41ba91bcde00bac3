"""A deterministic demo dataset shaped like the users' vehicle data (VeRi-Wild + four CNNs).

Every image gets a latent vehicle type, colour, view and camera (VeRi-Wild
vocabularies); a few are planted outliers (glare, night, no vehicle). Each of the
four descriptor models mixes random prototype vectors of those factors with the
weights the study observed: osnet encodes type, colour and view; vdc_color colour;
vdc_type type, weakly; efficientnet-b7 mostly the camera (background). A per-model
output transform gives the value profile of the real files (FACTS.md).
"""

import logging
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from descluster.files import atomic_output

log = logging.getLogger(__name__)

TYPES = ["sedan", "SUV", "minivan", "minibus", "large bus", "pickup truck", "small truck",
         "heavy truck", "tanker", "fence/bulk truck", "light passenger vehicle", "MPV"]
TYPE_SHARES = [0.38, 0.22, 0.08, 0.03, 0.04, 0.03, 0.05, 0.03, 0.01, 0.02, 0.04, 0.07]
COLOURS = ["white", "gray", "dark gray", "black", "golden", "yellow", "red", "purple",
           "cyan", "blue", "green", "brown"]
COLOUR_SHARES = [0.24, 0.14, 0.08, 0.25, 0.02, 0.03, 0.08, 0.01, 0.01, 0.08, 0.03, 0.03]
COLOUR_RGB = {"white": (235, 235, 235), "gray": (150, 150, 155), "dark gray": (80, 80, 85),
              "black": (20, 20, 22), "golden": (200, 165, 70), "yellow": (240, 210, 30),
              "red": (200, 30, 30), "purple": (120, 50, 140), "cyan": (60, 200, 210),
              "blue": (40, 70, 190), "green": (40, 150, 60), "brown": (120, 75, 40)}
VIEWS = ["front", "rear", "angle"]
OUTLIER_KINDS = ["glare", "night", "no_vehicle"]
OUTLIER_SHARE = 0.0025  # per kind: 0.75 % of images in all
N_CAMERAS = 40
IMAGES_PER_VEHICLE = 10

MODEL_DIMS = {"efficientnet-b7": 2560, "osnet": 512, "vdc_color": 128, "vdc_type": 512}

# Per model: weight of each latent factor, noise, outlier strengths, output transform.
_MODEL_SPECS = {
    "efficientnet-b7": {"weights": {"type": 0.35, "colour": 0.25, "view": 0.3, "camera": 1.6},
                        "noise": 0.9, "outlier": 2.0, "transform": "swish"},
    "osnet": {"weights": {"type": 1.5, "colour": 1.5, "view": 1.3, "camera": 0.3},
              "noise": 0.55, "outlier": 3.2, "transform": "relu_heavy"},
    "vdc_color": {"weights": {"type": 0.2, "colour": 1.7, "view": 0.2, "camera": 0.3},
                  "noise": 0.6, "outlier": 2.2, "transform": "linear"},
    "vdc_type": {"weights": {"type": 0.4, "colour": 0.3, "view": 0.15, "camera": 0.45},
                 "noise": 1.1, "outlier": 1.6, "transform": "relu"},
}

_CHUNK_ROWS = 32768


def make_attributes(n_images, seed):
    """Latent attributes and Windows-style paths of the demo images.

    Parameters
    ----------
    n_images : int
    seed : int

    Returns
    -------
    DataFrame of n_images rows
        ``paths`` (``veriwild\\<part>\\<vehicle id>\\<image no>.jpg``, rows in string
        order as in the real file: part 10 follows part 1), ``type``, ``colour``,
        ``view`` (empty for no-vehicle images), ``camera`` and ``outlier``
        (``none``, ``glare``, ``night`` or ``no_vehicle``).
    """
    rng = np.random.default_rng([seed, 0])
    n_vehicles = max(1, n_images // IMAGES_PER_VEHICLE)
    vehicle = np.minimum(np.arange(n_images) // IMAGES_PER_VEHICLE, n_vehicles - 1)
    vehicle_type = rng.choice(len(TYPES), size=n_vehicles, p=TYPE_SHARES)
    vehicle_colour = rng.choice(len(COLOURS), size=n_vehicles, p=COLOUR_SHARES)
    camera = rng.integers(0, N_CAMERAS, size=n_images)
    # a camera sees mostly one side of the traffic
    camera_view = rng.choice(len(VIEWS), size=N_CAMERAS, p=[0.45, 0.35, 0.2])
    view = np.where(rng.random(n_images) < 0.75, camera_view[camera],
                    rng.integers(0, len(VIEWS), size=n_images))
    outlier = np.full(n_images, "none", dtype=object)
    draw = rng.random(n_images)
    for i, kind in enumerate(OUTLIER_KINDS):
        outlier[(draw >= i * OUTLIER_SHARE) & (draw < (i + 1) * OUTLIER_SHARE)] = kind
    part = 1 + vehicle * 10 // n_vehicles
    paths = [f"veriwild\\{p}\\{v + 1:05d}\\{i + 1:06d}.jpg"
             for p, v, i in zip(part, vehicle, range(n_images))]
    no_vehicle = outlier == "no_vehicle"
    frame = pd.DataFrame({
        "paths": paths,
        "type": np.where(no_vehicle, "", np.array(TYPES, dtype=object)[vehicle_type[vehicle]]),
        "colour": np.where(no_vehicle, "", np.array(COLOURS, dtype=object)[vehicle_colour[vehicle]]),
        "view": np.where(no_vehicle, "", np.array(VIEWS, dtype=object)[view]),
        "camera": [f"c{c:03d}" for c in camera],
        "outlier": outlier,
    })
    order = np.lexsort((np.arange(n_images), part.astype(str)))
    return frame.iloc[order].reset_index(drop=True)


def write_ground_truth(attributes, vehicle_info_txt, attributes_csv):
    """Write the demo's ground truth as the real data ships it, plus what VeRi-Wild lacks.

    ``vehicle_info_txt`` is in VeRi-Wild's format (``id/image;Camera ID;Time;Model;Type;Color``,
    keys ``00001/000001``: type, colour and camera); ``attributes_csv`` holds ``paths``,
    ``view`` and ``outlier``, which VeRi-Wild does not record.

    Parameters
    ----------
    attributes : DataFrame
        From :func:`make_attributes`.
    """
    from descluster.attributes import image_keys
    from descluster.files import write_table, write_text_atomic
    from descluster.ingest import normalise_path

    keys = image_keys(attributes["paths"].map(normalise_path))
    vehicle = keys.str.split("/").str[0].astype(int)
    camera = attributes["camera"].str.removeprefix("c").astype(int) + 1
    seconds = (np.arange(len(attributes)) * 37) % 86400
    times = [f"2018-03-{1 + i % 28:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
             for i, s in enumerate(seconds)]
    models = np.where(attributes["type"] == "", "", "model-" + (vehicle % 9).astype(str))
    lines = [";".join(("id/image", "Camera ID", "Time", "Model", "Type", "Color"))]
    lines += [";".join(fields) for fields in zip(keys, camera.astype(str), times, models,
                                                 attributes["type"], attributes["colour"])]
    write_text_atomic(vehicle_info_txt, "\n".join(lines) + "\n")
    write_table(attributes[["paths", "view", "outlier"]], attributes_csv, sep=",")


def _codes(values, vocabulary):
    """Index of each value in the vocabulary, -1 for anything else (missing, 'none')."""
    index = {name: i for i, name in enumerate(vocabulary)}
    return values.map(index).fillna(-1).astype(int).to_numpy()


def _factor_codes(attributes):
    codes = {
        "type": _codes(attributes["type"], TYPES),
        "colour": _codes(attributes["colour"], COLOURS),
        "view": _codes(attributes["view"], VIEWS),
        "camera": attributes["camera"].str[1:].astype(int).to_numpy(),
    }
    return codes, _codes(attributes["outlier"], OUTLIER_KINDS)


def _transform(x, kind, scale):
    """Map the latent mix to the value profile of the real model's output."""
    if kind == "swish":  # EfficientNet's activation: min about -0.28
        z = 0.4 * x - 1.0
        return z / (1.0 + np.exp(-z))
    if kind == "relu_heavy":  # OSNet: non-negative, a few dimensions with large values
        return np.maximum(x, 0.0) * scale
    if kind == "relu":
        return np.maximum(0.45 * x - 0.35, 0.0)
    return 0.4 * x - 0.41


def make_descriptors(attributes, model, seed):
    """Descriptor array of one demo model.

    Parameters
    ----------
    attributes : DataFrame
        From :func:`make_attributes`.
    model : str
        One of :data:`MODEL_DIMS`.

    Returns
    -------
    ndarray of shape (n_images, MODEL_DIMS[model]), float32
    """
    spec = _MODEL_SPECS[model]
    n_dims = MODEL_DIMS[model]
    rng = np.random.default_rng([seed, 1 + list(MODEL_DIMS).index(model)])
    codes, outlier = _factor_codes(attributes)
    sizes = {"type": len(TYPES), "colour": len(COLOURS), "view": len(VIEWS), "camera": N_CAMERAS}
    prototypes = {f: rng.standard_normal((sizes[f], n_dims), dtype=np.float32) for f in sizes}
    outlier_prototypes = rng.standard_normal((len(OUTLIER_KINDS), n_dims), dtype=np.float32)
    scale = np.exp(rng.normal(0.0, 0.6, size=n_dims)).astype(np.float32)
    n_images = len(attributes)
    out = np.empty((n_images, n_dims), dtype=np.float32)
    for start in range(0, n_images, _CHUNK_ROWS):
        rows = slice(start, min(start + _CHUNK_ROWS, n_images))
        x = spec["noise"] * rng.standard_normal((rows.stop - start, n_dims), dtype=np.float32)
        for factor, weight in spec["weights"].items():
            c = codes[factor][rows]
            known = c >= 0
            x[known] += weight * prototypes[factor][c[known]]
        o = outlier[rows]
        for kind_index, kind in enumerate(OUTLIER_KINDS):
            hit = o == kind_index
            if kind == "night":  # the vehicle is barely visible
                x[hit] *= 0.35
            x[hit] += spec["outlier"] * outlier_prototypes[kind_index]
        out[rows] = _transform(x, spec["transform"], scale)
    log.info("demo: %s descriptors %s, min %.3f mean %.3f max %.3f", model, out.shape,
             out.min(), out.mean(), out.max())
    return out


def write_pickle(array, path, protocol=4):
    """Pickle an array as the real descriptor files are (a plain numpy array, protocol 4)."""
    with atomic_output(path) as tmp, open(tmp, "wb") as handle:
        pickle.dump(array, handle, protocol=protocol)


def render_thumbnail(row, seed):
    """A 64 x 48 picture of one demo image, drawn from its attributes.

    Parameters
    ----------
    row : mapping
        type, colour, view, camera, outlier of one image.

    Returns
    -------
    PIL.Image.Image (RGB)
    """
    from PIL import Image, ImageDraw

    camera = int(row["camera"][1:])
    rng = np.random.default_rng([seed, 2, camera])
    road = tuple(int(v) for v in rng.integers(70, 140, size=3))
    image = Image.new("RGB", (64, 48), road)
    draw = ImageDraw.Draw(image)
    if camera % 5 == 0:  # black-yellow road markings, as on some VeRi-Wild cameras
        for x in range(-48, 64, 10):
            draw.polygon([(x, 47), (x + 5, 47), (x + 25, 34), (x + 20, 34)], fill=(230, 200, 0))
    if camera % 7 == 0:  # overhanging branches
        for x in range(0, 64, 6):
            draw.line([(x, 0), (x + 4, 9)], fill=(30, 60, 25), width=2)
    if row["outlier"] != "no_vehicle":
        colour = COLOUR_RGB[row["colour"]]
        tall = row["type"] in ("minibus", "large bus", "heavy truck", "tanker", "fence/bulk truck")
        top = 6 if tall else 16
        if row["view"] == "angle":
            draw.polygon([(10, 42), (50, 44), (56, top + 4), (16, top)], fill=colour)
        else:
            draw.rectangle([14, top, 50, 42], fill=colour)
            draw.rectangle([18, top + 3, 46, top + 10], fill=(40, 50, 60))
        lamp = (255, 250, 210) if row["view"] == "front" else (220, 20, 20)
        draw.ellipse([16, 34, 22, 39], fill=lamp)
        draw.ellipse([42, 34, 48, 39], fill=lamp)
    if row["outlier"] == "night":
        image = image.point(lambda v: v // 6)
        draw = ImageDraw.Draw(image)
        draw.ellipse([14, 32, 24, 41], fill=(255, 255, 230))
        draw.ellipse([40, 32, 50, 41], fill=(255, 255, 230))
    elif row["outlier"] == "glare":
        for radius, value in ((30, 200), (20, 235), (11, 255)):
            draw.ellipse([32 - radius, 24 - radius, 32 + radius, 24 + radius],
                         fill=(value, value, value - 10))
    return image


def write_thumbnails(attributes, root, seed):
    """Render every demo image as a JPEG under ``root`` (Windows paths become folders)."""
    root = Path(root)
    for i, row in enumerate(attributes.to_dict("records")):
        target = root / row["paths"].replace("\\", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        render_thumbnail(row, seed).save(target, quality=85)
        if (i + 1) % 5000 == 0:
            log.info("demo: rendered %d of %d thumbnails", i + 1, len(attributes))
