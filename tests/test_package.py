"""The public surface of the package and the CLI shell."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import segkit
from segkit.cli import app


def test_version_is_a_string():
    assert isinstance(segkit.__version__, str) and segkit.__version__.count(".") == 2


def test_top_level_all_is_sorted_and_resolvable():
    assert list(segkit.__all__) == sorted(segkit.__all__)
    names = [n for n in segkit.__all__ if n != "__version__"]
    present = {m.name for m in pkgutil.iter_modules(segkit.__path__)}
    assert {n for n in names if n.islower()} <= present
    for name in names:
        assert getattr(segkit, name) is not None


@pytest.mark.parametrize(
    "module",
    sorted(
        m.name
        for m in pkgutil.iter_modules(segkit.__path__)
        if m.ispkg and m.name not in {"cli"}
    ),
)
def test_subpackage_all_is_sorted_and_complete(module):
    package = importlib.import_module(f"segkit.{module}")
    exported = getattr(package, "__all__", None)
    assert exported is not None, f"segkit.{module} has no __all__"
    assert list(exported) == sorted(exported), f"segkit.{module}.__all__ is not sorted"
    for name in exported:
        assert hasattr(package, name), f"segkit.{module}.__all__ names missing {name!r}"
    public = {
        n
        for n, v in vars(package).items()
        if not n.startswith("_") and getattr(v, "__module__", "").startswith(f"segkit.{module}")
    }
    assert public <= set(exported), f"segkit.{module} exports {public - set(exported)} outside __all__"


def test_import_is_lazy_and_fast():
    code = "import sys, segkit; print(sorted(m for m in ('pandas', 'duckdb', 'ibis', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        segkit.nope  # noqa: B018


def test_cli_help_lists_global_options():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for option in ("--workspace", "--quiet", "--verbose"):
        assert option in result.output


def test_cli_rejects_quiet_with_verbose(tmp_path):
    result = CliRunner().invoke(app, ["-w", str(tmp_path / "w.duckdb"), "-q", "-v", "demo"])
    assert result.exit_code == 2
    assert "cannot be used together" in result.output


def test_console_script_runs_as_subprocess():
    out = subprocess.run(
        [sys.executable, "-c", "from segkit.cli import main; main()", "--help"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "demo" in out.stdout


def test_segkit_error_in_a_command_is_one_line_and_its_exit_code():
    from segkit.cli._app import app as cli_app
    from segkit.cli._app import command
    from segkit.errors import InputError

    @command("fail-for-test", hidden=True)
    def _fail() -> None:
        raise InputError("file 'x.csv': column 'ts' is missing")

    try:
        result = CliRunner().invoke(cli_app, ["fail-for-test"])
        assert result.exit_code == 2
        assert result.output.strip() == "error: file 'x.csv': column 'ts' is missing"
    finally:
        cli_app.registered_commands[:] = [
            c for c in cli_app.registered_commands if c.name != "fail-for-test"
        ]
