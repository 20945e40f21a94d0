"""The same features, rule segments, triggers and send-time inputs on Spark (local[2]) as on DuckDB.

One Spark session for the module, on a small synthetic workspace whose tables are copied to
Spark through Parquet (Spark reads them as zone-less ``TIMESTAMP``, as a real Spark table is).
Skipped without pyspark or Java (`.ci/run` installs both: the `spark` extra and
`default-jre-headless`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.spark
pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Java is not installed (apt-get install default-jre-headless)",
                allow_module_level=True)

AS_OF = pd.Timestamp("2024-12-01", tz="UTC")
CUTOFF = pd.Timestamp("2024-09-01", tz="UTC")
RULES = Path(__file__).resolve().parents[2] / "notebooks" / "segments.yaml"
TABLES = ("events", "subscribers")


@pytest.fixture(scope="module")
def duckdb_workspace(tmp_path_factory, synthetic_workspace):
    from segkit.io import Workspace

    ws = Workspace(synthetic_workspace(tmp_path_factory.mktemp("spark") / "ws.duckdb", 400, seed=8))
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def spark(duckdb_workspace, tmp_path_factory):
    """A local[2] Spark session holding the workspace's tables as temporary views."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("segkit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # tiny data: compiling generated code and re-planning cost more than they save
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    folder = tmp_path_factory.mktemp("parquet")
    for name in TABLES:
        target = folder / f"{name}.parquet"
        duckdb_workspace.connection.execute(f"COPY {name} TO '{target}' (FORMAT parquet)")
        session.read.parquet(str(target)).createOrReplaceTempView(name)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_workspace(spark):
    import ibis

    from segkit.io import Workspace

    return Workspace.connect(ibis.pyspark.connect(spark))


@pytest.fixture(scope="module")
def features(duckdb_workspace, spark_workspace):
    from segkit.features import compute

    return compute(duckdb_workspace, AS_OF), compute(spark_workspace, AS_OF)


def _assert_same_table(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Same index, columns and dtypes; floats to 1e-9 (NaN where the other is NaN), the rest
    exactly."""
    assert list(ours.columns) == list(theirs.columns)
    pd.testing.assert_index_equal(ours.index, theirs.index)
    for column in ours.columns:
        a, b = ours[column], theirs[column]
        assert a.dtype == b.dtype, column
        if pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9,
                                       atol=1e-9, err_msg=column)
        else:
            pd.testing.assert_series_equal(a, b, check_names=False, obj=column)


def test_spark_reads_zone_less_timestamps_through_a_utc_session(spark_workspace):
    schema = spark_workspace.ibis().table("events").schema()
    assert schema["ts"].is_timestamp() and schema["ts"].timezone is None  # what Spark gives


def test_every_feature_column_equals_duckdb(features):
    duck, spark = features
    assert len(duck) > 300 and duck.shape[1] > 90
    _assert_same_table(spark, duck)
    assert spark.attrs == duck.attrs


def test_compute_expr_runs_in_spark_and_equals_duckdb(features, spark_workspace, tmp_path):
    """The whole feature table as one expression, executed by Spark (written to Parquet by
    Spark, not collected row by row), equals DuckDB's ``compute``."""
    from segkit.features import compute_expr

    duck, _ = features
    target = tmp_path / "features.parquet"
    compute_expr(spark_workspace, AS_OF).to_parquet(target)
    frame = pd.read_parquet(target).set_index("subscriber_id").sort_index()
    assert list(frame.columns) == list(duck.columns)
    pd.testing.assert_index_equal(frame.index, duck.index, check_names=False)
    for column in duck.columns:
        a, b = frame[column], duck[column]
        if pd.api.types.is_float_dtype(b):
            np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-9,
                                       err_msg=column)
        else:
            assert (a.astype(object).where(a.notna(), None).tolist()
                    == b.astype(object).where(b.notna(), None).tolist()), column


def test_rfm_and_calibration_holdout_equal_duckdb(duckdb_workspace, spark_workspace):
    from segkit.features import calibration_holdout, rfm

    _assert_same_table(rfm(spark_workspace, AS_OF), rfm(duckdb_workspace, AS_OF))
    duck = calibration_holdout(duckdb_workspace, CUTOFF, AS_OF)
    spark = calibration_holdout(spark_workspace, CUTOFF, AS_OF)
    _assert_same_table(spark.features, duck.features)
    _assert_same_table(spark.outcomes, duck.outcomes)


def test_rule_segments_evaluated_in_spark_equal_duckdb(features, spark):
    """segments.yaml compiled to Ibis and run inside Spark (on the Spark feature table) gives the
    membership DuckDB's pandas evaluation gives."""
    import ibis

    from segkit.segments import parse_rules

    duck, spark_features = features
    rules = parse_rules(RULES.read_text())
    expected = rules.evaluate(duck)
    columns = sorted(rules.features() | {"subscriber_id"})
    frame = spark_features.reset_index()[columns]
    spark.createDataFrame(frame).createOrReplaceTempView("features_view")
    table = ibis.pyspark.connect(spark).table("features_view")
    masks = table.select("subscriber_id", **rules.to_ibis(table)).to_pyarrow().to_pandas()
    masks = masks.set_index("subscriber_id").sort_index()
    assert expected.to_numpy().any(axis=0).all(), "every rule should have members here"
    for name in rules.names:
        pd.testing.assert_series_equal(masks[name].astype(bool), expected[name].astype(bool),
                                       check_names=False, obj=name)


def test_built_in_scheme_memberships_equal_duckdb(features):
    from segkit.segments import SCHEMES, scheme_labels

    duck, spark = features
    for scheme in SCHEMES:
        pd.testing.assert_series_equal(scheme_labels(spark, scheme), scheme_labels(duck, scheme),
                                       obj=scheme)


def test_triggers_and_consent_inputs_equal_duckdb(duckdb_workspace, spark_workspace, features):
    from segkit.consent import consent_tables
    from segkit.segments import trigger_audience, trigger_events

    order = ["subscriber_id", "event_type", "ts"]
    duck_events = trigger_events(duckdb_workspace, AS_OF).sort_values(order, ignore_index=True)
    spark_events = trigger_events(spark_workspace, AS_OF).sort_values(order, ignore_index=True)
    pd.testing.assert_frame_equal(spark_events, duck_events, check_dtype=False)
    assert str(spark_events["ts"].dtype).startswith("datetime64") and spark_events["ts"].dt.tz
    duck_gate, spark_gate = consent_tables(duckdb_workspace), consent_tables(spark_workspace)
    pd.testing.assert_frame_equal(
        spark_gate.events.sort_values(order, ignore_index=True),
        duck_gate.events.sort_values(order, ignore_index=True), check_dtype=False)
    duck_features, spark_features = features
    a = trigger_audience(duck_features, duck_events, duck_gate.subscribers, AS_OF).to_frame()
    b = trigger_audience(spark_features, spark_events, spark_gate.subscribers, AS_OF).to_frame()
    assert len(a) > 0
    pd.testing.assert_frame_equal(b, a, check_dtype=False)


def test_send_time_inputs_equal_duckdb(duckdb_workspace, spark_workspace):
    from segkit.sendtime import recommend
    from segkit.sendtime._inputs import prepare

    duck, spark = prepare(duckdb_workspace, AS_OF), prepare(spark_workspace, AS_OF)
    pd.testing.assert_frame_equal(spark.subscribers, duck.subscribers)
    assert spark.zones == duck.zones and spark.dominant_zone == duck.dominant_zone
    for name in ("send_sub", "send_ts", "open_sub", "open_ts", "click_sub", "click_ts",
                 "unsub_sub", "unsub_ts", "zone_code"):
        np.testing.assert_array_equal(getattr(spark, name), getattr(duck, name), err_msg=name)
    assert len(duck.open_ts) > 1000
    pd.testing.assert_frame_equal(recommend(spark_workspace, AS_OF), recommend(duckdb_workspace, AS_OF))


def test_a_session_outside_utc_is_refused_with_what_to_do(spark, spark_workspace):
    from segkit.errors import ValidationError
    from segkit.features import compute

    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        with pytest.raises(ValidationError, match="spark.sql.session.timeZone") as caught:
            compute(spark_workspace, AS_OF)
        assert "America/New_York" in str(caught.value)
        with pytest.raises(ValidationError, match="not UTC"):
            compute(spark_workspace.ibis(), AS_OF, assume_utc=True)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_cli_reads_spark_through_backend(spark, duckdb_workspace, features, tmp_path):
    """`segkit --backend spark` (the running session) exports what the DuckDB workspace gives."""
    from typer.testing import CliRunner

    from segkit.cli import app
    from segkit.consent import consent_tables
    from segkit.segments import export_segment

    name = "engagement:highly_engaged"
    gate = consent_tables(duckdb_workspace)
    expected = export_segment(name, features[0], gate.subscribers, events=gate.events).audience
    assert len(expected) > 0
    out = tmp_path / "spark.csv"
    result = CliRunner().invoke(app, ["--backend", "spark", "export", "segment", name,
                                      "--as-of", AS_OF.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str)
    pd.testing.assert_frame_equal(written, expected.astype(str).reset_index(drop=True))
    refused = CliRunner().invoke(app, ["--backend", "spark", "ingest", "events", str(out)])
    assert refused.exit_code == 2 and "DuckDB workspace file only" in refused.output


def test_frequency_cells_computed_in_spark_equal_duckdb(duckdb_workspace, spark_workspace):
    """Volumes (range windows), attribution (running maximum) and the packed per-subscriber
    cells of ``_fatigue_engine`` run in Spark; every frequency frame equals DuckDB's."""
    from segkit.sendtime import frequency
    from segkit.sendtime._fatigue_engine import engine_inputs

    duck, spark = engine_inputs(duckdb_workspace.ibis(), AS_OF, 72), engine_inputs(spark_workspace.ibis(), AS_OF, 72)
    np.testing.assert_array_equal(spark.subscriber_id, duck.subscriber_id)
    for name in ("row", "volume_7d", "volume_30d", "n", "open", "click", "unsubscribe"):
        np.testing.assert_array_equal(getattr(spark.cells, name), getattr(duck.cells, name), err_msg=name)
    assert duck.cells.n.sum() > 5000
    a, b = frequency.analyze(spark_workspace, AS_OF), frequency.analyze(duckdb_workspace, AS_OF)
    for name in ("rates", "evidence", "caps", "subscribers"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
