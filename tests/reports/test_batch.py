"""A batch where one report fails: the others still run, the index marks the failure, exit 1."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import write_notebook
from typer.testing import CliRunner

from segkit.cli import app
from segkit.errors import ValidationError
from segkit.reports import load_manifest, run_batch

SUMMARY = ("from segkit.reports.display import write_summary\n"
           "write_summary({'value': value}, parameters={'value': value}, data_period=None, fingerprint=None)")


@pytest.fixture
def notebooks(tmp_path):
    folder = tmp_path / "nbs"
    write_notebook(folder / "fine.ipynb", "value = 1", "print('value is', value)", SUMMARY,
                   title="# Fine report")
    write_notebook(folder / "broken.ipynb", "value = 1", "raise RuntimeError(f'boom {value}')", SUMMARY,
                   title="# Broken report")
    write_notebook(folder / "not_a_report.ipynb", "x = 1")
    (folder / "not_a_report.ipynb").write_text(
        (folder / "not_a_report.ipynb").read_text().replace('"parameters"', '"explorer"'))
    return folder


def test_batch_continues_after_a_failure_and_marks_it(notebooks, tmp_path, monkeypatch):
    manifest = tmp_path / "reports.yaml"
    manifest.write_text(yaml.safe_dump({"reports": [
        {"report": "broken", "parameters": {"value": 7}},
        {"report": "fine", "parameters": {"value": 3}},
    ]}))
    out = tmp_path / "out"
    monkeypatch.setenv("SEGKIT_NOTEBOOKS", str(notebooks))
    result = CliRunner().invoke(app, ["batch", str(manifest), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "1 succeeded, 1 failed" in result.output

    (fine_dir,) = (out / "fine").iterdir()
    assert (fine_dir / "report.html").is_file()
    assert json.loads((fine_dir / "summary.json").read_text())["numbers"] == {"value": 3}

    (broken_dir,) = (out / "broken").iterdir()
    run = json.loads((broken_dir / "run.json").read_text())
    assert run["status"] == "failed" and "RuntimeError: boom 7" in run["error"]
    executed = json.loads((broken_dir / "executed.ipynb").read_text())
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors and errors[0]["evalue"] == "boom 7"
    page = (broken_dir / "report.html").read_text()
    assert "This report run failed" in page and "boom 7" in page

    index = (out / "index.html").read_text()
    assert index.count('<tr class="run failed" data-report="broken"') == 1
    assert index.count('<tr class="run succeeded" data-report="fine"') == 1
    assert "2 run(s), 1 failed" in index


def test_manifest_is_validated_before_anything_runs(notebooks, tmp_path):
    bad = [{"report": "fine", "parameters": {"value": 1}}, {"report": "fine", "parameters": {"valeu": 2}}]
    with pytest.raises(ValidationError, match=r"manifest entry 2: report 'fine' has no parameter 'valeu'"):
        run_batch(bad, out_dir=tmp_path / "out", notebooks=notebooks)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("manifest", "message"), [
    ([], "non-empty list"),
    ([{"parameters": {}}], "entry 1 needs a 'report' name"),
    ([{"report": "fine", "params": {}}], "unknown key(s) params; valid keys: report, parameters"),
    ([{"report": "fine", "parameters": [1]}], "parameters must be a mapping"),
])
def test_manifest_shape_errors(manifest, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_manifest(manifest)


def test_manifest_accepts_a_bare_list_and_names(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("- fine\n- report: broken\n  parameters: {value: 2}\n")
    assert load_manifest(path) == [{"report": "fine", "parameters": {}},
                                   {"report": "broken", "parameters": {"value": 2}}]


def test_reports_are_notebooks_with_a_parameters_cell(notebooks):
    from segkit.reports import available_reports

    assert available_reports(notebooks) == ["broken", "fine"]


def test_batch_cli_reports_a_missing_manifest_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "nope.yaml"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "nope.yaml: cannot read the manifest" in result.output


def test_parallel_batch_keeps_manifest_order_and_indexes_every_run(notebooks, tmp_path):
    where = ("import os\nfrom segkit.reports.display import RUN_DIR_ENV, write_summary\n"
             "write_summary({'value': value, 'run_dir': os.environ[RUN_DIR_ENV]}, parameters={'value': value}, "
             "data_period=None, fingerprint=None)")
    write_notebook(notebooks / "where.ipynb", "value = 1", "import time\ntime.sleep(0.5)", where)
    manifest = [{"report": "where", "parameters": {"value": v}} for v in (1, 2, 3, 4)]
    manifest.insert(1, {"report": "broken", "parameters": {"value": 5}})
    result = run_batch(manifest, out_dir=tmp_path / "out", notebooks=notebooks, jobs=2)
    assert [(r.name, r.status) for r in result.runs] == [
        ("where", "succeeded"), ("broken", "failed"), *[("where", "succeeded")] * 3]
    finished = [r for r in result.runs if r.ok]
    # each kernel saw its own run directory, even with two reports starting at once
    assert [r.summary["numbers"]["value"] for r in finished] == [1, 2, 3, 4]
    assert [r.summary["numbers"]["run_dir"] for r in finished] == [str(r.directory) for r in finished]
    index = result.index_path.read_text()
    assert "5 run(s), 1 failed" in index
    with pytest.raises(ValidationError, match="jobs must be at least 1"):
        run_batch(manifest, out_dir=tmp_path / "out", notebooks=notebooks, jobs=0)


BOMB = """
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
reports:
  - report: lists
    parameters: {names: *i}
"""


def test_yaml_alias_bomb_in_a_manifest_fails_fast_in_one_line(tmp_path):
    import time

    folder = tmp_path / "nbs"
    write_notebook(folder / "lists.ipynb", "names = ['a']", "print(len(names))")
    manifest = tmp_path / "bomb.yaml"
    manifest.write_text(BOMB)
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["batch", str(manifest), "--notebooks", str(folder),
                                      "--out", str(tmp_path / "out")])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "expands to more than 20,000 values" in lines[0]
    assert not (tmp_path / "out").exists()


def test_nested_or_huge_list_parameters_are_refused(tmp_path):
    folder = tmp_path / "nbs"
    write_notebook(folder / "lists.ipynb", "names = ['a']", "print(len(names))")
    nested = yaml.safe_load("x: &x [a, b]\ny: [*x, *x]")["y"]
    for value, message in ((nested, "too large or nested: a list"),
                           (["a"] * 10_001, "a list of 10,001 items"),
                           (["a" * 100_001], "text of 100,001 characters")):
        with pytest.raises(ValidationError, match=message):
            run_batch([{"report": "lists", "parameters": {"names": value}}], notebooks=folder,
                      out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
