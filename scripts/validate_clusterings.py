"""Rule validate_clusterings: every final clustering against the ground-truth attributes."""
from descluster.runner import run_step
from descluster.steps.validate import validate_clusterings


def main(smk):
    validate_clusterings(assignment_parquets=smk.input.assignments,
                         attribute_codes=smk.input.attributes,
                         out_validation=smk.output.validation, out_ranking=smk.output.ranking,
                         out_recommended=smk.output.recommended)


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
