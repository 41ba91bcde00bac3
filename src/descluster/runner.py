"""Running one workflow step: log file, thread limits, one-line errors."""

import logging
import sys
import time

from threadpoolctl import threadpool_limits

from descluster.errors import InputError

log = logging.getLogger("descluster")


def _configure_logging(log_path):
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def run_step(snakemake, main):
    """Run ``main(snakemake)`` as one Snakemake job.

    Progress goes to the rule's log file; BLAS and OpenMP pools are limited to the
    rule's threads. A bad input (:class:`InputError`) or any other failure ends the
    job with exit status 1 and one line on standard error (the traceback of an
    unexpected failure goes to the log file only), so the user reads the cause,
    not a stack.
    """
    _configure_logging(snakemake.log[0])
    name = snakemake.rule
    started = time.perf_counter()
    log.info("%s: started with %d thread(s)", name, snakemake.threads)
    try:
        with threadpool_limits(limits=snakemake.threads):
            main(snakemake)
    except InputError as exc:
        log.error("%s", exc)
        print(f"descluster: error in {name}: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - reported in one line, traceback kept in the log
        log.exception("%s: unexpected failure", name)
        print(f"descluster: unexpected failure in {name}: {type(exc).__name__}: {exc} "
              f"(traceback in {snakemake.log[0]})", file=sys.stderr)
        sys.exit(1)
    log.info("%s: done in %.1f s", name, time.perf_counter() - started)
