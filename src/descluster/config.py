"""Configuration: schema validation with one-line errors, cross-key checks, variant names."""

import contextlib
import decimal
import math
import os
import re
import sys

import jsonschema
import yaml

from descluster.errors import InputError
from descluster.labels import clustering_id
from descluster.names import check_name
from descluster.yamlfile import load_yaml, shorten


def variant_name(variant):
    """Name of a PCA variant in output paths.

    Parameters
    ----------
    variant : int or float
        An int is a number of components (``150 -> 'pca150'``); a float in (0, 1) is an
        explained-variance fraction (``0.9 -> 'var0.9'``).
    """
    if isinstance(variant, bool):
        raise TypeError(f"not a PCA variant: {variant!r}")
    if isinstance(variant, int):
        return f"pca{variant}"
    # positional, shortest round-trip digits: 1e-05 -> 'var0.00001' (repr would give 'var1e-05')
    return "var" + format(decimal.Decimal(repr(variant)), "f")


VARIANT_PATTERN = r"pca[1-9][0-9]*|var0\.[0-9]*[1-9]"
DEFAULT_PCA_VARIANTS = [0.9]
# longest variant name and model name: both become parts of file names
MAX_VARIANT_NAME = 24


def _key_path(error):
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[") or "(top level)"


def _is_integer(checker, instance):
    # JSON Schema counts 4.0 as an integer; here it would name variant 'var4.0' or k '4.0'
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(checker, instance):
    # YAML reads .nan and .inf as floats, and NaN passes every comparison the schema makes
    return (isinstance(instance, (int, float)) and not isinstance(instance, bool)
            and math.isfinite(instance))


def _extend_with_defaults(validator_class):
    """A validator that fills in the schema's ``default`` values (as Snakemake's does) and
    takes only whole numbers written as such (``4``, not ``4.0``) as integers."""
    validate_properties = validator_class.VALIDATORS["properties"]
    type_checker = validator_class.TYPE_CHECKER.redefine_many({"integer": _is_integer,
                                                              "number": _is_number})

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = _copy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults},
                                        type_checker=type_checker)


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value))


def _describe(error):
    """One line for a schema error, naming the key and what was expected."""
    if isinstance(error.instance, float) and not math.isfinite(error.instance):
        return f"{error.instance} is not accepted; expected a finite number"
    if error.validator == "oneOf" and error.context:
        if error.absolute_path and error.absolute_path[0] == "pca":
            expected = ("an integer >= 1 (components) or a float in (0, 1) (explained-variance "
                        "fraction)")
            if isinstance(error.instance, str) and _as_float(error.instance) is not None:
                expected += (f"; YAML reads {error.instance} as text: write it with a point and "
                             f"digits, e.g. {format(decimal.Decimal(error.instance), 'f')}")
        else:
            expected = "a file path or a list of file paths"
        return f"{shorten(error.instance)} is not valid; expected {expected}"
    if "propertyNames" in error.schema_path:
        return (f"model name {shorten(error.instance)} must start with a letter or digit and "
                "hold only letters, digits, '_', '.' or '-', at most 64 characters (it becomes "
                "part of file names)")
    return error.message


def _as_float(text):
    """The finite number a text spells, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@contextlib.contextmanager
def config_errors_exit():
    """Turn an InputError inside the block into one ``descluster: config error`` line and exit 1.

    For the Snakefile and its rule files: a config mistake stops before any job, without a stack.
    """
    try:
        yield
    except InputError as exc:
        sys.exit(f"descluster: config error: {exc}")


def checked_config_file(path):
    """Return ``path`` once it reads as strict YAML (:func:`descluster.yamlfile.load_yaml`).

    Otherwise exit with one line naming the file and line: Snakemake's own reading of a
    file that is not UTF-8 stops with a traceback that names neither.
    """
    with config_errors_exit():
        load_yaml(path)
    return path


def validate_config(config, schema_path, source="config"):
    """Validate a config mapping in place: schema, defaults, then cross-key checks.

    Parameters
    ----------
    config : dict
        The configuration as loaded from YAML (defaults are filled in place).
    schema_path : str or Path
        ``workflow/schemas/config.schema.yaml``.
    source : str
        Name of the config file, used in error messages.

    Raises
    ------
    InputError
        One line: ``<source>: key '<key>': <problem>``.
    """
    with open(schema_path, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    validator_class = _extend_with_defaults(jsonschema.validators.validator_for(schema))
    validator = validator_class(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        error = errors[0]
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            parent = _key_path(error)
            key = unknown[0] if parent == "(top level)" else f"{parent}.{unknown[0]}"
            allowed = ", ".join(error.schema.get("properties", {}))
            raise InputError(f"{source}: key '{key}': unknown key; expected one of: {allowed}")
        raise InputError(f"{source}: key '{_key_path(error)}': {_describe(error)[:200]}")
    if isinstance(config["attributes"], str):
        config["attributes"] = [config["attributes"]]
    config["attributes"] = config["attributes"] or []
    for model in config["descriptors"]:
        config["pca"].setdefault(model, list(DEFAULT_PCA_VARIANTS))
        config["kmeans"].setdefault(model, [])
    _check_cross_keys(config, source)
    return config


def _check_cross_keys(config, source):
    models = set(config["descriptors"])
    for section in ("pca", "kmeans"):
        for model in config[section]:
            if model not in models:
                raise InputError(
                    f"{source}: key '{section}.{model}': model '{model}' is not in 'descriptors' "
                    f"(known: {', '.join(sorted(models))})"
                )
    first, last = config["k_range"]
    if first > last:
        raise InputError(f"{source}: key 'k_range': [{first}, {last}] is reversed; expected [first, last]")
    for model, variants in config["pca"].items():
        names = [variant_name(v) for v in variants]
        long = next((i for i, n in enumerate(names) if len(n) > MAX_VARIANT_NAME), None)
        if long is not None:
            raise InputError(
                f"{source}: key 'pca.{model}[{long}]': {variants[long]!r} would be named "
                f"{shorten(names[long], 40)}, longer than {MAX_VARIANT_NAME} characters (variant "
                "names are parts of file names); use a fraction with fewer digits")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InputError(f"{source}: key 'pca.{model}': variant(s) {duplicates} listed twice")
    for model, ks in config["kmeans"].items():
        if len(set(ks)) != len(ks):
            raise InputError(f"{source}: key 'kmeans.{model}': a k value is listed twice: {ks}")
    _check_names(config, source)
    for i, entry in enumerate(config["labels"]):
        model = entry["clustering"].split("/")[0]
        finals = [clustering_id(model, variant_name(v), kk) for v in config["pca"].get(model, [])
                  for kk in config["kmeans"].get(model, [])]
        if entry["clustering"] not in finals:
            raise InputError(
                f"{source}: key 'labels[{i}].clustering': {entry['clustering']} is not a final "
                f"clustering of this config (they are: {', '.join(finals) or 'none'})"
            )


def _check_names(config, source):
    """Attribute names of the config follow the one rule (:func:`descluster.names.check_name`)."""
    for i, name in enumerate(config["label_attributes"]):
        check_name(name, f"{source}: key 'label_attributes[{i}]'")
    for name in config["label_values"]:
        check_name(name, f"{source}: key 'label_values'")
    for i, entry in enumerate(config["labels"]):
        for j, name in enumerate(entry.get("attributes") or []):
            check_name(name, f"{source}: key 'labels[{i}].attributes[{j}]'")


def input_files(config):
    """(config key, path) of every file and folder the config names as an input."""
    named = [(f"descriptors.{m}", p) for m, p in config["descriptors"].items()]
    named += [("images.paths", config["images"]["paths"])]
    named += [(f"attributes[{i}]", p) for i, p in enumerate(config["attributes"])]
    named += [(f"labels[{i}].file", entry["file"]) for i, entry in enumerate(config["labels"])]
    if config["images"]["root"]:
        named += [("images.root", config["images"]["root"])]
    return named


# characters a path in the config may not hold: Snakemake reads braces as wildcards;
# control characters would break the logs and tables that name the file
_BAD_PATH = re.compile(r"[{}\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_input_path(key, path, source, results="results"):
    """One config line unless ``path`` can be an input: no braces or control characters, and
    not under ``results`` (the workflow's outputs, rewritten by the next run: a file there,
    such as a label template filled in place, would be overwritten and its labels lost).

    Parameters
    ----------
    key : str
        Config key naming the path (``labels[0].file``).
    results : str
        The results folder (relative to the working directory).
    """
    bad = _BAD_PATH.search(path)
    if bad:
        raise InputError(f"{source}: key '{key}': {shorten(path)} holds {bad.group()!r}, which "
                         "Snakemake reads as a wildcard or no file name should hold; rename the "
                         "file or folder")
    real, outputs = os.path.realpath(path), os.path.realpath(results)
    if real == outputs or real.startswith(outputs + os.sep):
        where = (" as config/labels/<model>_<variant>_k<k>.yaml" if key.startswith("labels[")
                 else " outside it")
        raise InputError(
            f"{source}: key '{key}': {shorten(path)} is under {results}/, the folder the workflow "
            f"writes (the next run may overwrite it); save it{where}")


def check_config_against_rows(config, n_rows, source="config"):
    """Check the k values and neighbour counts against the number of images, before any job runs.

    Parameters
    ----------
    n_rows : int
        Number of images (rows of ``images.paths``).
    """
    last = config["k_range"][1]
    if last >= n_rows:
        raise InputError(
            f"{source}: key 'k_range': last k {last} must be below the number of images "
            f"({n_rows} in {config['images']['paths']})"
        )
    for model, ks in config["kmeans"].items():
        too_big = [k for k in ks if k >= n_rows]
        if too_big:
            raise InputError(
                f"{source}: key 'kmeans.{model}': k {too_big} must be below the number of "
                f"images ({n_rows} in {config['images']['paths']})"
            )
    neighbours = config["outliers"]["neighbours"]
    reference = min(config["outliers"]["reference_sample"], n_rows)
    if 2 * neighbours >= reference:  # the wide local outlier factor searches 2 x neighbours
        raise InputError(
            f"{source}: key 'outliers.neighbours': {neighbours} needs more than {2 * neighbours} "
            f"reference images (twice as many neighbours are searched), not {reference} "
            f"(outliers.reference_sample or the number of images)"
        )
