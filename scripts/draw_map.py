"""Rule draw_map: the map page of one model-variant and its data script."""
from descluster.runner import run_step
from descluster.steps.map import draw_map


def main(smk):
    entries = [{**entry, "file": file}
               for entry, file in zip(smk.params.label_entries, smk.input.label_files)]
    files = {entry["clustering"]: entry["file"] for entry in entries}
    draw_map(
        layout_npy=smk.input.layout,
        images_parquet=smk.input.images,
        clusterings=[{"name": name, "assignments": assignments}
                     for name, assignments in zip(smk.params.clusterings, smk.input.assignments)],
        targets=[{"name": name, "template": template, "label_file": files.get(name)}
                 for name, template in zip(smk.params.targets, smk.input.templates)],
        label_entries=entries,
        allowed=smk.params.allowed,
        attributes_parquet=(smk.input.ground_truth or [None])[0],
        outliers_parquet=smk.input.outliers,
        labels_parquet=(smk.input.labels or [None])[0],
        images_root=smk.params.root,
        paths_script=smk.input.paths_script,
        model=smk.wildcards.model,
        variant=smk.wildcards.variant,
        out_page=smk.output.page,
        out_data=smk.output.data,
    )


run_step(snakemake, main)  # noqa: F821 - injected by Snakemake
