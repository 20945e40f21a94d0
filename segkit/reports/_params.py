"""Report parameters: read the ``parameters``-tagged cell with :mod:`ast`, check values before running.

papermill injects any value it is given (it only warns on unknown names and never checks types),
so segkit validates first: every value must name a declared parameter and match its type.

A parameter's type comes from its annotation when it has one (``as_of: str | None = None``),
otherwise from its default value (``weeks = 26`` is an ``int``). Allowed types: ``int``,
``float``, ``str``, ``bool``, ``list``, each optionally ``| None``. A bare ``None`` default
without an annotation means "a string or None".
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segkit.errors import NotebookError, ValidationError

__all__ = ["Parameter", "coerce_parameters", "notebook_parameters", "read_notebook"]

_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool, "list": list}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Parameter:
    """One declared report parameter."""

    name: str
    type: type
    default: Any
    optional: bool

    @property
    def type_name(self) -> str:
        return self.type.__name__ + (" | None" if self.optional else "")

    def describe(self) -> str:
        return f"{self.name} ({self.type_name}, default {self.default!r})"


def read_notebook(path: Path) -> dict[str, Any]:
    """A notebook file as JSON, or :class:`~segkit.errors.NotebookError` saying what is wrong."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise NotebookError(f"notebook {path} cannot be read ({error.strerror})") from error
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise NotebookError(
            f"notebook {path} is not valid JSON ({str(error).splitlines()[0]}); restore it, "
            "e.g. with git checkout"
        ) from error
    if not isinstance(notebook, dict):
        raise NotebookError(f"notebook {path} is not a notebook (its JSON is not an object)")
    return notebook


def _parameters_cell(notebook: dict[str, Any], path: Path) -> str:
    cells = [c for c in notebook.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValidationError(
            f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}"
        )
    source = cells[0].get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _annotation_type(node: ast.expr, where: str) -> tuple[type, bool]:
    """``int`` / ``str | None`` / ``Optional[str]`` → (type, optional)."""
    if isinstance(node, ast.Name) and node.id in _TYPES:
        return _TYPES[node.id], False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        others = [s for s in sides if s not in nones]
        if len(nones) == 1 and len(others) == 1:
            return _annotation_type(others[0], where)[0], True
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "Optional"
    ):
        return _annotation_type(node.slice, where)[0], True
    raise ValidationError(
        f"{where}: unsupported annotation {ast.unparse(node)!r}; "
        f"use one of {', '.join(_TYPES)}, optionally '| None'"
    )


def _declared(target: ast.expr, annotation: ast.expr | None, value: ast.expr, where: str) -> Parameter:
    if not isinstance(target, ast.Name):
        raise ValidationError(f"{where}: parameters must be simple names, got {ast.unparse(target)!r}")
    try:
        default = ast.literal_eval(value)
    except ValueError as error:
        raise ValidationError(
            f"{where}: default of {target.id!r} must be a literal, got {ast.unparse(value)!r}"
        ) from error
    if annotation is not None:
        kind, optional = _annotation_type(annotation, where)
    elif default is None:
        kind, optional = str, True
    elif type(default) in _TYPES.values():
        kind, optional = type(default), False
    else:
        raise ValidationError(
            f"{where}: default of {target.id!r} has unsupported type {type(default).__name__}"
        )
    return Parameter(target.id, kind, default, optional or default is None)


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """The parameters declared in a notebook's ``parameters`` cell, in order of declaration.

    Raises
    ------
    ValidationError
        No (or several) ``parameters`` cells, or a cell that is not plain ``name = literal`` lines.
    """
    path = Path(path)
    notebook = read_notebook(path)
    where = f"{path.name} parameters cell"
    tree = ast.parse(_parameters_cell(notebook, path), filename=str(path))
    declared: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            parameter = _declared(node.targets[0], None, node.value, where)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            parameter = _declared(node.target, node.annotation, node.value, where)
        else:
            raise ValidationError(
                f"{where}: only 'name = literal' lines are allowed, got {ast.unparse(node)!r}"
            )
        declared[parameter.name] = parameter
    return declared


def _coerce_text(parameter: Parameter, text: str) -> Any:
    if parameter.optional and text.strip().lower() in {"none", "null"}:
        return None
    if parameter.type is bool:
        if text.strip().lower() in _TRUE | _FALSE:
            return text.strip().lower() in _TRUE
        raise ValueError(text)
    if parameter.type is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    return parameter.type(text)


#: Items a list parameter may hold, and characters a text parameter (or list item) may have.
MAX_LIST_ITEMS = 10_000
MAX_TEXT_CHARS = 100_000
_SCALARS = (str, int, float, bool)


class _TooLarge(Exception):
    """A parameter value beyond the bounds (its text says what it was)."""


def _check_size(value: Any) -> None:
    """Bound what a parameter may carry into the notebook: flat lists of scalars only."""
    items = value if isinstance(value, list | tuple) else [value]
    if len(items) > MAX_LIST_ITEMS:
        raise _TooLarge(f"a list of {len(items):,} items (at most {MAX_LIST_ITEMS:,})")
    for item in items:
        if item is not None and not isinstance(item, _SCALARS):
            raise _TooLarge(f"a {type(item).__name__} (parameters hold plain values or flat lists of them)")
        if isinstance(item, str) and len(item) > MAX_TEXT_CHARS:
            raise _TooLarge(f"text of {len(item):,} characters (at most {MAX_TEXT_CHARS:,})")


def _check_value(parameter: Parameter, value: Any) -> Any:
    _check_size(value)
    if value is None and parameter.optional:
        return None
    if isinstance(value, str) and (parameter.type is not str or parameter.optional):
        return _coerce_text(parameter, value)
    if parameter.type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, parameter.type) and not (
        parameter.type is int and isinstance(value, bool)
    ):
        return value
    raise TypeError(type(value).__name__)


def _valid_list(declared: Mapping[str, Parameter]) -> str:
    return "; ".join(p.describe() for p in declared.values()) or "(none)"


def coerce_parameters(
    report: str, declared: Mapping[str, Parameter], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Check ``values`` against the declared parameters and convert command-line strings.

    Strings are converted to the declared type (``"12"`` → 12 for an ``int``; ``true/false/1/0``
    for a ``bool``; comma-separated text for a ``list``; ``none`` for an optional parameter).
    Python values must already have the declared type (an ``int`` is accepted for a ``float``).

    Raises
    ------
    ValidationError
        An unknown name or a value of the wrong type; the message lists every valid parameter
        with its type and default.
    """
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValidationError(
            f"report {report!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"valid parameters: {_valid_list(declared)}"
        )
    checked: dict[str, Any] = {}
    for name, value in values.items():
        parameter = declared[name]
        try:
            checked[name] = _check_value(parameter, value)
        except _TooLarge as error:
            raise ValidationError(
                f"report {report!r}: parameter {name!r} is too large or nested: {error}"
            ) from error
        except (TypeError, ValueError) as error:
            raise ValidationError(
                f"report {report!r}: parameter {name!r} must be {parameter.type_name}, "
                f"got {value!r}; valid parameters: {_valid_list(declared)}"
            ) from error
    return checked
