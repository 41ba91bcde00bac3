"""The one exception type for input a user can fix, and how its messages quote files."""

import re

_MAX_SHOWN = 80  # characters of a value from a file shown in a message
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shorten(text, limit=_MAX_SHOWN):
    """``text`` for a one-line message: control characters and runs of whitespace become one
    space (no line breaks or terminal escapes from a file), then cut to ``limit`` characters."""
    text = " ".join(_CONTROL.sub(" ", str(text)).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class InputError(Exception):
    """Bad input: the message is one line naming the file, key or rows and what was expected.

    Steps raise it before writing any output; the step runner prints it without a
    traceback (see :func:`descluster.runner.run_step`).
    """
