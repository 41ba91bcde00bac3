"""Reading a user's YAML file strictly: UTF-8, no anchors or aliases, no duplicate keys."""

import yaml

from descluster.errors import InputError

MAX_SHOWN = 60


def shorten(value, limit=MAX_SHOWN):
    """repr of a user value for an error message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "...'"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (a few bytes can stand for gigabytes once
    expanded) and duplicate keys (YAML keeps the last one silently)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(problem="anchors and aliases (& and *) are not accepted",
                                       problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.MarkedYAMLError(
                        problem=f"key {shorten(key)} appears twice (first on line {seen[key]})",
                        problem_mark=key_node.start_mark)
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml(path, loader=StrictLoader):
    """Load one YAML document from a UTF-8 file with :class:`StrictLoader` (or a subclass).

    Raises
    ------
    InputError
        ``<path>, line N: <problem>`` for a file that is not UTF-8, not YAML, or uses
        anchors, aliases or duplicate keys.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: not UTF-8 text; save the file as UTF-8") from None
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}{where}: {exc.problem or 'not valid YAML'}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc)[:MAX_SHOWN]})") from None
