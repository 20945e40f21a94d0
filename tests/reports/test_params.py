"""Parameter declarations read from the parameters cell, and validation before any run."""

from __future__ import annotations

import pytest
from conftest import write_notebook

from segkit.errors import ValidationError
from segkit.reports import coerce_parameters, notebook_parameters

CELL = '''workspace = "data/workspace.duckdb"  # comment
weeks = 26
alpha = 0.05
verbose = False
as_of: str | None = None
arms = ["a", "b"]
limit: int | None = None'''


@pytest.fixture
def declared(tmp_path):
    return notebook_parameters(write_notebook(tmp_path / "r.ipynb", CELL))


def test_declarations_come_from_defaults_and_annotations(declared):
    kinds = {name: p.type_name for name, p in declared.items()}
    assert kinds == {"workspace": "str", "weeks": "int", "alpha": "float", "verbose": "bool",
                     "as_of": "str | None", "arms": "list", "limit": "int | None"}
    assert declared["weeks"].default == 26 and declared["arms"].default == ["a", "b"]


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("weeks", "12", 12), ("alpha", "0.1", 0.1), ("alpha", "1", 1.0), ("verbose", "true", True),
    ("verbose", "0", False), ("as_of", "2024-06-30", "2024-06-30"), ("as_of", "none", None),
    ("arms", "a, b,c", ["a", "b", "c"]), ("limit", "None", None), ("limit", "5", 5),
])
def test_command_line_text_is_converted_to_the_declared_type(declared, name, text, expected):
    assert coerce_parameters("r", declared, {name: text}) == {name: expected}


@pytest.mark.parametrize(("name", "value"), [
    ("weeks", 2.5), ("weeks", True), ("weeks", "twelve"), ("alpha", "high"), ("verbose", "maybe"),
    ("workspace", 3), ("limit", "lots"), ("arms", 4),
])
def test_wrong_type_names_parameter_type_and_lists_all_valid_parameters(declared, name, value):
    with pytest.raises(ValidationError) as error:
        coerce_parameters("r", declared, {name: value})
    message = str(error.value)
    assert f"parameter {name!r} must be {declared[name].type_name}" in message
    assert "weeks (int, default 26)" in message and "as_of (str | None, default None)" in message


def test_python_values_of_the_right_type_pass(declared):
    values = {"weeks": 3, "alpha": 1, "verbose": True, "as_of": None, "arms": ["x"]}
    assert coerce_parameters("r", declared, values) == {**values, "alpha": 1.0}


def test_unknown_parameter_lists_valid_ones(declared):
    with pytest.raises(ValidationError, match=r"no parameter 'wekes'; valid parameters: workspace \(str"):
        coerce_parameters("r", declared, {"wekes": "3"})


@pytest.mark.parametrize(("cell", "message"), [
    ("x = compute()", "must be a literal"),
    ("import os", "only 'name = literal' lines"),
    ("x: dict = {}", "unsupported annotation"),
    ("a, b = 1, 2", "simple names"),
])
def test_parameter_cells_must_be_plain_literals(tmp_path, cell, message):
    with pytest.raises(ValidationError, match=message):
        notebook_parameters(write_notebook(tmp_path / "r.ipynb", cell))


def test_notebook_needs_exactly_one_parameters_cell(tmp_path):
    path = write_notebook(tmp_path / "r.ipynb", "x = 1")
    text = path.read_text().replace('"parameters"', '"other"')
    path.write_text(text)
    with pytest.raises(ValidationError, match="exactly one cell tagged 'parameters', found 0"):
        notebook_parameters(path)
