"""The one exception type for input a user can fix."""


class InputError(Exception):
    """Bad input: the message is one line naming the file, key or rows and what was expected.

    Steps raise it before writing any output; the step runner prints it without a
    traceback (see :func:`descluster.step.run_step`).
    """
