"""The one rule for attribute names, wherever a name enters: the config (``label_attributes``,
``label_values``, ``labels[].attributes``), ground-truth headers and label files.

The rule is data in ``grammar.json`` (``name``), which the pages' label-file parser
(``browser/labelfile.js``) applies too.
"""

import json
import re
from functools import cache
from importlib import resources

from descluster.errors import InputError, shorten


@cache
def grammar():
    """The parsed ``grammar.json``: ``name`` (attribute names) and ``labelFile`` (label files)."""
    text = (resources.files("descluster") / "grammar.json").read_text(encoding="utf-8")
    return json.loads(text)


def name_problem(name):
    """Why ``name`` cannot name an attribute, or None when it can.

    Parameters
    ----------
    name : object
        A candidate name (anything but a str is refused).

    Returns
    -------
    str or None
        What the rule asks for, phrased to follow the quoted name.
    """
    rule = grammar()["name"]
    if not isinstance(name, str):
        return f"is not text ({type(name).__name__}); names are text"
    if not re.match(rule["pattern"], name):
        return ("is not a valid name: a name starts with a letter (A-Z, a-z) and holds only "
                "letters, digits and '_'")
    if len(name) > rule["maxLength"]:
        return f"is longer than {rule['maxLength']} characters"
    if name.lower() in rule["yamlWords"]:
        return "is a YAML word (read as true/false or null); name it otherwise"
    if name in rule["objectMembers"]:
        return "is a member of every JavaScript object (the pages would misread it); name it otherwise"
    if name in rule["reserved"]:
        return "is a name the workflow uses itself; name it otherwise"
    suffix = next((s for s in rule["reservedSuffixes"] if name.endswith(s)), None)
    if suffix:
        return f"ends in '{suffix}', as the columns the workflow adds; name it otherwise"
    return None


def check_name(name, where):
    """Raise InputError ``<where>: attribute name '<name>' <problem>`` unless ``name`` is valid.

    Parameters
    ----------
    where : str
        The file and column, or the config key, the name comes from.
    """
    problem = name_problem(name)
    if problem:
        raise InputError(f"{where}: attribute name {shorten(repr(name))} {problem} "
                         "(docs/safety.md: names)")
    return name
