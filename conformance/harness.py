"""Shared pieces of the conformance scripts: paths, the Spark session, the
safewrite CLI and row-set comparison.

Run through run.sh, which creates the venv and builds the CLI.
"""

from __future__ import annotations

import collections
import glob
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = Path(
    os.environ.get(
        "SAFEWRITE_CONFORMANCE_CACHE",
        Path.home() / ".cache" / "safewrite-conformance",
    )
)


def shared_dir() -> Path:
    """Return the shared sample-data folder: $SAFEWRITE_SHARED, else
    ../shared beside the repository root (the same rule as internal/testenv)."""
    path = Path(os.environ.get("SAFEWRITE_SHARED", REPO_ROOT.parent / "shared"))
    if not (path / "data").is_dir():
        raise SystemExit(
            f"shared sample data not found at {path}/data: check out the "
            "project beside its shared/ folder or set SAFEWRITE_SHARED"
        )
    return path


def spark_session():
    """Start the one local Spark session with Delta, bound to 127.0.0.1.

    The Delta jars come from Maven Central through spark.jars.packages at the
    version of the installed delta-spark wheel, cached in CACHE_DIR/ivy.
    """
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("safewrite-conformance")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config(
            "spark.sql.catalog.spark_catalog",
            "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        )
        .config("spark.jars.ivy", str(CACHE_DIR / "ivy"))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "3g")
        # Delta's defaults (50 snapshot partitions, 10,000 VACUUM listing
        # tasks) are sized for clusters; on 2 cores they cost minutes.
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        # VACUUM ... DRY RUN with a short retention would otherwise be rejected.
        .config("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@dataclass
class CLIResult:
    """One finished safewrite command."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)

    def describe(self) -> str:
        """Return a one-line summary for a matrix cell."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        last = text[-1] if text else ""
        return f"exit {self.returncode}: {last[:300]}"


class SafewriteCLI:
    """Runs the safewrite binary that run.sh built."""

    def __init__(self, binary: str):
        self.binary = binary

    def run(self, *args: str) -> CLIResult:
        argv = [self.binary, *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        return CLIResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def append(self, table: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> CLIResult:
        args = ["append", "--table", str(table), "--json", *extra]
        for item in inputs:
            args += ["--input", str(item)]
        return self.run(*args)

    def inspect(self, table: Path) -> dict:
        result = self.run("inspect", "--table", str(table), "--json")
        if result.returncode != 0:
            raise RuntimeError(f"safewrite inspect failed: {result.describe()}")
        return result.json()


def tree_listing(root: Path) -> dict[str, int]:
    """Return every file under root with its size, keyed by relative path."""
    listing = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            listing[str(path.relative_to(root))] = path.stat().st_size
    return listing


def _hashable(value):
    """Return value in a form that compares equal across readers (floats
    that are NaN compare equal, nested lists and dicts become tuples)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def normalize(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select schema's columns by name, in its order, and cast them to its
    types, so readers that return other Arrow types (string views, large
    strings) compare by value."""
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ValueError(f"columns missing from the reader's result: {missing}; it returned {table.column_names}")
    columns = []
    for field in schema:
        column = table.column(field.name)
        if column.type != field.type:
            column = column.cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def compare_rows(expected: pa.Table, actual: pa.Table) -> tuple[bool, str]:
    """Compare two row multisets by value, after casting actual to expected's
    schema. Returns (equal, reason)."""
    try:
        actual = normalize(actual, expected.schema)
    except (ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        return False, f"result has another schema: {err}"
    want = collections.Counter(_hashable(tuple(r.values())) for r in expected.to_pylist())
    got = collections.Counter(_hashable(tuple(r.values())) for r in actual.to_pylist())
    if want == got:
        return True, f"{expected.num_rows} rows equal"
    missing = want - got
    extra = got - want
    reason = (
        f"expected {expected.num_rows} rows, got {actual.num_rows}: "
        f"{sum(missing.values())} missing, {sum(extra.values())} unexpected"
    )
    if missing:
        reason += f"; missing e.g. {_short(next(iter(missing)))}"
    if extra:
        reason += f"; unexpected e.g. {_short(next(iter(extra)))}"
    return False, reason


def _short(row) -> str:
    text = repr(row)
    return text if len(text) <= 200 else text[:197] + "..."


# Delta primitive type names, as `safewrite inspect --json` prints them, and
# the Arrow type each reader's result is cast to.
DELTA_TO_ARROW = {
    "string": pa.string(),
    "long": pa.int64(),
    "integer": pa.int32(),
    "short": pa.int16(),
    "byte": pa.int8(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "binary": pa.binary(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_ntz": pa.timestamp("us"),
}


def arrow_schema_from_inspect(columns: list[dict]) -> pa.Schema:
    """Return the Arrow schema of a table from `safewrite inspect --json`
    columns (primitive types only)."""
    fields = []
    for column in columns:
        kind = column["type"]
        if kind not in DELTA_TO_ARROW:
            raise ValueError(f"column {column['name']!r} has type {kind!r}, which the suite cannot compare")
        fields.append(pa.field(column["name"], DELTA_TO_ARROW[kind]))
    return pa.schema(fields)


def duckdb_delta_extension() -> str | None:
    """Return the path of the DuckDB delta extension shipped in the
    duckdb-extension-delta wheel, or None when it is not installed."""
    try:
        import duckdb_extension_delta
    except ImportError:
        return None
    base = Path(duckdb_extension_delta.__file__).parent
    found = glob.glob(str(base / "extensions" / "**" / "delta.duckdb_extension"), recursive=True)
    return found[0] if found else None


def package_versions() -> dict[str, str]:
    """Return the installed versions of the suite's pinned packages."""
    from importlib import metadata

    names = ["pyspark", "delta-spark", "deltalake", "duckdb", "duckdb-extension-delta", "pyarrow", "pyiceberg"]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
