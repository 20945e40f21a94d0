"""YAML read with bounds, so an alias bomb ("billion laughs") fails at once.

``yaml.safe_load`` builds shared objects for aliases, which is cheap, but everything after it
walks them expanded: a few lines of nested aliases become billions of values (a batch manifest
ran for 120 s, took 1.3 GB and wrote a 168 MB notebook). The node graph is checked before any
object is built, counting every alias as often as it is used, and the walk stops at the limit.
"""

from __future__ import annotations

from typing import Any

import yaml

from segkit.errors import ValidationError

__all__ = ["MAX_YAML_DEPTH", "MAX_YAML_NODES", "YAMLError", "load_yaml"]

#: Values (scalars, lists, mappings; aliases counted each time they are used) a file may hold.
MAX_YAML_NODES = 20_000
#: Nesting levels a file may use.
MAX_YAML_DEPTH = 32
YAMLError = yaml.YAMLError


def _check_size(root: yaml.Node, where: str, max_nodes: int, max_depth: int) -> None:
    seen = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > max_nodes:
            raise ValidationError(
                f"{where} expands to more than {max_nodes:,} values (aliases counted each time "
                "they are used); write it out without nested aliases"
            )
        if depth > max_depth:
            raise ValidationError(f"{where} is nested more than {max_depth} levels deep")
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


def load_yaml(text: str, where: str, *, max_nodes: int = MAX_YAML_NODES,
              max_depth: int = MAX_YAML_DEPTH) -> Any:
    """``yaml.safe_load(text)``, refusing documents larger than ``max_nodes`` values or deeper
    than ``max_depth`` levels (:class:`~segkit.errors.ValidationError` naming ``where``).

    Raises :class:`yaml.YAMLError` (re-exported as ``YAMLError``) for text that is not YAML.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, where, max_nodes, max_depth)
        return loader.construct_document(node)
    finally:
        loader.dispose()
