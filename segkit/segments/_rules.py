"""Declarative segment rules: parsing, validation and compilation (pandas or Ibis), never ``eval``.

A rule set is a mapping (parsed from YAML text or written in Python)::

    segments:
      - name: lapsed_buyers
        description: Bought before, nothing in six months
        where:
          all:
            - purchase_count_365d >= 1                    # shorthand "feature op value"
            - {feature: days_since_last_purchase, op: ">", value: 180}
            - not: {feature: unsubscribed, op: "==", value: true}
    priority: [lapsed_buyers]                             # optional; default: file order

A condition is a comparison ``{feature, op, value}`` (ops: ``>=, >, <=, <, ==, !=, between, in,
not_in, is_null, not_null``), the shorthand string ``"feature op value"`` (comparison ops only;
the value is read as a YAML scalar, never evaluated), or ``all``/``any`` (lists) and ``not`` (one
condition). Rules are validated against the feature columns before use; an unknown feature or
operator raises :class:`~segkit.errors.ValidationError` naming it and suggesting the closest valid
name.

Besides the columns of :func:`segkit.features.compute`, a rule may read ``next_category`` (text:
the next-best product category per subscriber, :func:`segkit.recommend.next_category` of EASE
fitted on the product interactions up to the as-of date), e.g. ``next_category == "kitchen"``.
``segkit export segment --rules`` adds it when a rule names it and the workspace's product data
have categories (otherwise it stops and says so); in Python add it with
:func:`segkit.recommend.add_next_category` before :meth:`RuleSet.evaluate`.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from segkit._suggest import did_you_mean
from segkit._yaml import load_yaml
from segkit.errors import ValidationError

__all__ = [
    "AllOf",
    "AnyOf",
    "Comparison",
    "Not",
    "OPERATORS",
    "RuleSet",
    "SegmentRule",
    "parse_rules",
    "primary_segment",
]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
#: Every valid operator of a comparison.
OPERATORS: tuple[str, ...] = (*_COMPARE, "between", "in", "not_in", "is_null", "not_null")
_SHORTHAND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")
_NULLARY_SHORTHAND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(is_null|not_null)\s*$")


@dataclass(frozen=True)
class Comparison:
    """``feature op value``; NaN/null feature values never match (except ``is_null``)."""

    feature: str
    op: str
    value: Any = None

    def features(self) -> set[str]:
        return {self.feature}

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        column = frame[self.feature]
        if self.op == "is_null":
            return column.isna()
        if self.op == "not_null":
            return column.notna()
        if self.op == "between":
            low, high = self.value
            result = (column >= low) & (column <= high)
        elif self.op in ("in", "not_in"):
            result = column.isin(list(self.value))
            result = ~result if self.op == "not_in" else result
        else:
            result = _COMPARE[self.op](column, self.value)
        return _no_nulls(result, column)

    def ibis(self, table: Any) -> Any:
        column = table[self.feature]
        if self.op == "is_null":
            return column.isnull()
        if self.op == "not_null":
            return column.notnull()
        if self.op == "between":
            result = column.between(*self.value)
        elif self.op in ("in", "not_in"):
            result = column.isin(list(self.value))
            result = ~result if self.op == "not_in" else result
        else:
            result = _COMPARE[self.op](column, self.value)
        return column.notnull() & result.fill_null(False)


def _no_nulls(result: pd.Series, column: pd.Series) -> pd.Series:
    """A plain bool mask where null feature values are False (nullable dtypes give NA)."""
    if isinstance(result.dtype, pd.BooleanDtype):
        result = result.fillna(False)
    return result.astype(bool) & column.notna().to_numpy()


@dataclass(frozen=True)
class _Group:
    """Children combined with ``_combine`` starting from ``_empty`` (the empty group's value)."""

    children: tuple[Any, ...]
    _empty: ClassVar[bool]
    _combine: ClassVar[Callable[[Any, Any], Any]]

    def features(self) -> set[str]:
        return set().union(*(c.features() for c in self.children))

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        result = pd.Series(self._empty, index=frame.index)
        for child in self.children:
            result = type(self)._combine(result, child.mask(frame))
        return result

    def ibis(self, table: Any) -> Any:
        import ibis

        result = ibis.literal(self._empty)
        for child in self.children:
            result = type(self)._combine(result, child.ibis(table))
        return result


@dataclass(frozen=True)
class AllOf(_Group):
    """Every child matches (an empty ``all`` matches everyone)."""

    _empty: ClassVar[bool] = True
    _combine: ClassVar[Callable[[Any, Any], Any]] = operator.and_


@dataclass(frozen=True)
class AnyOf(_Group):
    """At least one child matches (an empty ``any`` matches no one)."""

    _empty: ClassVar[bool] = False
    _combine: ClassVar[Callable[[Any, Any], Any]] = operator.or_


@dataclass(frozen=True)
class Not:
    """The child does not match."""

    child: Any

    def features(self) -> set[str]:
        return self.child.features()

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        return ~self.child.mask(frame)

    def ibis(self, table: Any) -> Any:
        return ~self.child.ibis(table)


Condition = Comparison | AllOf | AnyOf | Not


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: who matches ``condition``."""

    name: str
    condition: Condition
    description: str = ""


@dataclass(frozen=True)
class RuleSet:
    """Named segment rules plus the priority order that picks each subscriber's primary segment."""

    rules: tuple[SegmentRule, ...]
    priority: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    def rule(self, name: str) -> SegmentRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise ValidationError(
            f"unknown segment {name!r}{did_you_mean(name, self.names)} valid: {', '.join(self.names)}"
        )

    def features(self) -> set[str]:
        """Every feature column the rules read."""
        return set().union(*(rule.condition.features() for rule in self.rules))

    def validate(self, columns: Iterable[str], dtypes: Mapping[str, Any] | None = None) -> RuleSet:
        """Raise a ValidationError naming every unknown feature (with the closest valid name).

        With ``dtypes`` (feature name → pandas or Ibis dtype) the values are checked too: a
        number feature compares with numbers, a bool with true/false, a text feature with text,
        a timestamp with a date; ``purchase_count_365d >= "1; DROP TABLE events"`` is refused
        here, before any comparison runs.
        """
        valid = sorted(map(str, columns))
        problems = [
            f"segment {rule.name!r}: unknown feature {feature!r}{did_you_mean(feature, valid)}"
            for rule in self.rules
            for feature in sorted(rule.condition.features() - set(valid))
        ]
        if problems:
            raise ValidationError("; ".join(problems) + f" (valid features: {', '.join(valid)})")
        if dtypes is not None:
            kinds = {str(name): _kind(dtype) for name, dtype in dtypes.items()}
            for rule in self.rules:
                for comparison in _comparisons(rule.condition):
                    _check_value_type(rule.name, comparison, kinds.get(comparison.feature))
        return self

    def evaluate(self, features: pd.DataFrame) -> pd.DataFrame:
        """Membership: one bool column per segment (in rule order), indexed like ``features``."""
        self.validate(features.columns, features.dtypes)
        return pd.DataFrame(
            {rule.name: rule.condition.mask(features).to_numpy() for rule in self.rules},
            index=features.index,
        )

    def to_ibis(self, table: Any) -> dict[str, Any]:
        """One Ibis boolean expression per segment over ``table`` (a feature table expression)."""
        self.validate(table.columns, dict(table.schema().items()))
        return {rule.name: rule.condition.ibis(table) for rule in self.rules}


def _comparisons(condition: Condition) -> Iterable[Comparison]:
    if isinstance(condition, Comparison):
        yield condition
    elif isinstance(condition, Not):
        yield from _comparisons(condition.child)
    else:
        for child in condition.children:
            yield from _comparisons(child)


def _kind(dtype: Any) -> str | None:
    """``number``, ``bool``, ``text``, ``timestamp`` or None (anything goes) for a pandas or Ibis
    dtype."""
    if hasattr(dtype, "is_numeric"):  # an Ibis DataType
        for kind, test in (("bool", "is_boolean"), ("number", "is_numeric"),
                           ("timestamp", "is_timestamp"), ("text", "is_string")):
            if getattr(dtype, test)():
                return kind
        return None
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if isinstance(dtype, pd.StringDtype):
        return "text"
    return None  # object and categorical columns may hold anything


def _fits(kind: str, value: Any) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "text":
        return isinstance(value, str)
    if isinstance(value, datetime.date):
        return True
    if not isinstance(value, str):
        return False
    try:
        pd.Timestamp(value)
    except ValueError:
        return False
    return True


_EXAMPLES = {"number": "a number such as 1 or 0.5", "bool": "true or false",
             "text": "text in quotes", "timestamp": "a date such as 2024-12-31"}


def _check_value_type(segment: str, comparison: Comparison, kind: str | None) -> None:
    if kind is None or comparison.op in ("is_null", "not_null"):
        return
    values = comparison.value if comparison.op in ("between", "in", "not_in") else (comparison.value,)
    for value in values:
        if not _fits(kind, value):
            raise ValidationError(
                f"segment {segment!r}: feature {comparison.feature!r} is {kind}, so "
                f"{comparison.op!r} needs {_EXAMPLES[kind]}; got {type(value).__name__} {value!r}"
            )


def parse_rules(spec: str | Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> RuleSet:
    """Parse and check a rule set from YAML text, a mapping, or a list of segment mappings.

    Structural problems (unknown operator, wrong value shape, duplicate names, a priority entry
    that names no segment) raise :class:`~segkit.errors.ValidationError`; feature names are checked
    later against the feature table (:meth:`RuleSet.validate`).
    """
    if isinstance(spec, str):
        try:
            spec = load_yaml(spec, "segment rules")
        except yaml.YAMLError as error:
            raise ValidationError(f"segment rules are not valid YAML: {error}") from error
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        spec = {"segments": list(spec)}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("segments"), list):
        raise ValidationError("segment rules need a top-level 'segments:' list of {name, where}")
    _check_keys(spec, {"segments", "priority"}, "the rule set")
    rules = tuple(_parse_segment(item, i) for i, item in enumerate(spec["segments"]))
    names = [rule.name for rule in rules]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError(f"segment names must be unique; repeated: {', '.join(repeated)}")
    return RuleSet(rules, _parse_priority(spec.get("priority"), names))


def _check_keys(item: Mapping, allowed: set[str], where: str) -> None:
    unknown = sorted(set(map(str, item)) - allowed)
    if unknown:
        raise ValidationError(
            f"{where}: unknown key {unknown[0]!r}{did_you_mean(unknown[0], allowed)} "
            f"valid keys: {', '.join(sorted(allowed))}"
        )


def _parse_segment(item: Any, position: int) -> SegmentRule:
    if not isinstance(item, Mapping) or "name" not in item or "where" not in item:
        raise ValidationError(f"segment #{position + 1} needs 'name' and 'where'; got {item!r}")
    name = str(item["name"])
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
        raise ValidationError(f"segment name {name!r}: use letters, digits, '_' or '-' only")
    _check_keys(item, {"name", "where", "description"}, f"segment {name!r}")
    condition = _parse_condition(item["where"], f"segment {name!r}")
    return SegmentRule(name, condition, str(item.get("description", "")))


def _parse_priority(priority: Any, names: list[str]) -> tuple[str, ...]:
    if priority is None:
        return tuple(names)
    if not isinstance(priority, list):
        raise ValidationError(f"'priority' must be a list of segment names; got {priority!r}")
    for name in priority:
        if name not in names:
            raise ValidationError(
                f"priority names unknown segment {name!r}{did_you_mean(name, names)} "
                f"valid: {', '.join(names)}"
            )
    rest = [n for n in names if n not in priority]
    return (*map(str, priority), *rest)


def _parse_condition(node: Any, where: str) -> Condition:
    if isinstance(node, str):
        return _parse_shorthand(node, where)
    if not isinstance(node, Mapping):
        raise ValidationError(f"{where}: a condition must be a mapping or 'feature op value'; got {node!r}")
    if "feature" in node:
        return _parse_comparison(node, where)
    if len(node) != 1:
        raise ValidationError(
            f"{where}: a group has exactly one of all/any/not (or a feature comparison); got "
            f"keys {', '.join(map(str, node))}"
        )
    key, value = next(iter(node.items()))
    if key == "not":
        return Not(_parse_condition(value, where))
    if key in ("all", "any"):
        if not isinstance(value, list):
            raise ValidationError(f"{where}: '{key}' takes a list of conditions; got {value!r}")
        children = tuple(_parse_condition(child, where) for child in value)
        return AllOf(children) if key == "all" else AnyOf(children)
    raise ValidationError(
        f"{where}: unknown group {key!r}{did_you_mean(key, ['all', 'any', 'not', 'feature'])} "
        "valid: all, any, not, or {feature, op, value}"
    )


def _parse_shorthand(text: str, where: str) -> Comparison:
    nullary = _NULLARY_SHORTHAND.match(text)
    if nullary:
        return Comparison(nullary.group(1), nullary.group(2))
    match = _SHORTHAND.match(text)
    if not match:
        raise ValidationError(
            f"{where}: cannot read condition {text!r}; write 'feature op value' with op one of "
            f"{', '.join(_COMPARE)}, 'feature is_null', or a mapping {{feature, op, value}}"
        )
    feature, op, raw = match.groups()
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        raise ValidationError(f"{where}: cannot read the value in {text!r}") from error
    return _parse_comparison({"feature": feature, "op": op, "value": value}, where)


def _parse_comparison(node: Mapping, where: str) -> Comparison:
    _check_keys(node, {"feature", "op", "value"}, where)
    feature, op = str(node["feature"]), str(node.get("op", ""))
    if op not in OPERATORS:
        # "=>" and "=<" are swapped ">=" / "<=": suggest those before difflib's pick
        hint = f"; did you mean {op[::-1]!r}?" if op[::-1] in OPERATORS else did_you_mean(op, OPERATORS)
        raise ValidationError(
            f"{where}: unknown operator {op!r} for feature {feature!r}{hint} "
            f"valid: {', '.join(OPERATORS)}"
        )
    value = node.get("value")
    if op in ("is_null", "not_null"):
        return Comparison(feature, op)
    if op == "between":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValidationError(f"{where}: 'between' on {feature!r} needs [low, high]; got {value!r}")
        value = (value[0], value[1])
    elif op in ("in", "not_in"):
        if not isinstance(value, list | tuple | set):
            raise ValidationError(f"{where}: {op!r} on {feature!r} needs a list; got {value!r}")
        value = tuple(value)
    elif value is None or isinstance(value, list | dict):
        raise ValidationError(f"{where}: {op!r} on {feature!r} needs a single value; got {value!r}")
    return Comparison(feature, op, value)


def primary_segment(
    membership: pd.DataFrame, priority: Sequence[str] | None = None, *, default: str = "unassigned"
) -> pd.Series:
    """Each subscriber's primary segment: the first segment in ``priority`` they belong to.

    ``membership`` is a bool frame (one column per segment, e.g. :meth:`RuleSet.evaluate`); the
    other memberships stay in it. Subscribers in no segment get ``default``.
    """
    order = list(priority) if priority is not None else list(membership.columns)
    unknown = [name for name in order if name not in membership.columns]
    if unknown:
        raise ValidationError(
            f"priority names unknown segment {unknown[0]!r}"
            f"{did_you_mean(unknown[0], membership.columns)} valid: {', '.join(membership.columns)}"
        )
    matrix = membership[order].to_numpy(dtype=bool)
    if default in order:
        raise ValidationError(f"default label {default!r} is also a segment name; pick another")
    first = np.where(matrix.any(axis=1), matrix.argmax(axis=1), len(order))
    return pd.Series(
        pd.Categorical.from_codes(first, categories=[*order, default]),
        index=membership.index,
        name="primary_segment",
    )
