"""descluster: image descriptors (CNN embeddings) to clusters, labels and outliers.

The Snakemake workflow in this repository calls one thin script per step; the
logic of every step lives in this package so that tests can import it directly.
"""

__version__ = "0.1.0"
