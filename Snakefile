# descluster: image descriptors -> PCA -> k-scan -> KMeans clusterings -> validation.
# Rules live in workflow/rules (one file per stage), helpers in workflow/rules/common.smk.

from snakemake.utils import min_version

from descluster.config import checked_config_file

min_version("9.0")


# The demo config applies only when no --configfile is given: a user's config file stands
# alone (Snakemake would otherwise merge it into this one), with schema defaults filling in.
# It is read strictly first, so that a file saved in a local encoding stops in one line.
if not workflow.overwrite_configfiles:

    configfile: checked_config_file("config/config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/demo.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/pca.smk"
include: "workflow/rules/kscan.smk"
include: "workflow/rules/kmeans.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/labels.smk"
include: "workflow/rules/outliers.smk"
include: "workflow/rules/site.smk"
include: "workflow/rules/map.smk"


localrules:
    all,


rule all:
    default_target: True
    input:
        all_targets(),
