"""One function per workflow step: plain paths and parameters in, output files out.

One module per rule file of ``workflow/rules/`` (``demo``, ``ingest``, ``pca``, ``kscan``,
``kmeans``, ``validate``, ``labels``, ``outliers``, ``site``, ``map``), one function per
rule, called with keywords only by the rule's script in ``scripts/`` (which only maps
Snakemake's inputs, outputs, params and wildcards onto it); the computing is in the domain
modules (``descluster.clustering``, ``descluster.site``...). Nothing is imported here: a
job imports only its own stage's module and what that needs.
"""
