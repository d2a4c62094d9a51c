"""Live conformance suite: Spark, delta-rs and DuckDB against safewrite's
Delta tables, in both directions.

Direction A: Spark creates a table, safewrite appends, Spark checks the rows
and the history, then appends on top. Direction B: safewrite alone writes a
table and every reader must return exactly the rows it was given.

Each scenario fills cells (pass, fail or n/a, with a reason); the suite
writes the matrix to docs/conformance.md and exits 1 when any cell fails.
Run it through run.sh, which installs the pinned packages and builds the CLI.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import harness
from harness import SafewriteCLI, compare_rows, tree_listing

PASS, FAIL, NA = "pass", "fail", "n/a"

A_COLUMNS = [
    "safewrite append",
    "Spark rows",
    "Spark history",
    "Spark append on top",
    "safewrite after Spark",
]
REFUSAL_COLUMNS = ["safewrite append", "table unchanged"]
B_COLUMNS = [
    "Spark rows",
    "Spark count (stats)",
    "delta-rs rows",
    "DuckDB rows",
    "DESCRIBE DETAIL",
    "VACUUM DRY RUN",
    "RESTORE v0",
    "safewrite after RESTORE",
]


@dataclass
class Cell:
    status: str
    reason: str


@dataclass
class Scenario:
    direction: str
    name: str
    columns: list[str]
    cells: dict[str, Cell] = field(default_factory=dict)
    seconds: float = 0.0

    def set(self, column: str, ok: bool, reason: str) -> bool:
        self.cells[column] = Cell(PASS if ok else FAIL, reason)
        return ok

    def na(self, column: str, reason: str) -> None:
        self.cells[column] = Cell(NA, reason)


class Suite:
    def __init__(self, spark, cli: SafewriteCLI, work: Path, shared: Path, tamper: str | None):
        self.spark = spark
        self.cli = cli
        self.work = work
        self.shared = shared
        self.tamper = tamper
        self.duckdb_extension = harness.duckdb_delta_extension()
        self._flights = None
        self.counter = 0

    # ---- inputs -------------------------------------------------------

    def flights(self) -> pa.Table:
        """Return the first 60,000 rows of flights-3m.parquet (written by
        Polars; `date` is a timestamp without time zone)."""
        if self._flights is None:
            source = pq.ParquetFile(self.shared / "data" / "flights-3m.parquet")
            batches, rows = [], 0
            for batch in source.iter_batches(batch_size=10_000):
                batches.append(batch)
                rows += batch.num_rows
                if rows >= 60_000:
                    break
            self._flights = pa.Table.from_batches(batches).slice(0, 60_000)
        return self._flights

    def flights_slice(self, offset: int, length: int, with_day: bool = False) -> pa.Table:
        table = self.flights().slice(offset, length)
        if with_day:
            day = pc.cast(table.column("date"), pa.date32())
            table = table.append_column("day", day)
        return table

    def write_parquet(self, table: pa.Table, name: str) -> Path:
        path = self.work / "inputs" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        return path

    def write_csv_rows(self, source: Path, start: int, stop: int, name: str) -> Path:
        """Write rows [start, stop) of a CSV file, with its header, to a new file."""
        path = self.work / "inputs" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(source, newline="") as src, open(path, "w", newline="") as dst:
            reader = csv.reader(src)
            writer = csv.writer(dst)
            writer.writerow(next(reader))
            for i, row in enumerate(reader):
                if start <= i < stop:
                    writer.writerow(row)
        return path

    def new_table_path(self, name: str) -> Path:
        self.counter += 1
        return self.work / "tables" / f"{self.counter:02d}-{name}"

    # ---- Spark helpers --------------------------------------------------

    def spark_rows(self, path: Path, version: int | None = None) -> pa.Table:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(str(path)).toArrow()

    def spark_df(self, table: pa.Table):
        """Return a Spark DataFrame of table's rows. It goes through a
        Parquet file because createDataFrame turns Arrow timestamps without
        a time zone into TIMESTAMP, while Spark's Parquet reader keeps them
        TIMESTAMP_NTZ."""
        self.counter += 1
        return self.spark.read.parquet(str(self.write_parquet(table, f"spark-{self.counter}")))

    def sql(self, text: str):
        return self.spark.sql(text)

    def history(self, path: Path) -> list[dict]:
        rows = self.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
        return [r.asDict() for r in rows]

    # ---- the broken writer used to show that the suite can fail ---------

    def maybe_tamper(self, table: Path, version: int) -> None:
        """When --tamper is set, edit the add actions of one safewrite
        commit the way a buggy writer would. Never used in a normal run."""
        if not self.tamper:
            return
        log = table / "_delta_log" / f"{version:020d}.json"
        lines = log.read_text().splitlines()
        out = []
        for line in lines:
            action = json.loads(line)
            add = action.get("add")
            if add is not None and self.tamper == "num-records":
                stats = json.loads(add["stats"])
                stats["numRecords"] += 1
                add["stats"] = json.dumps(stats)
            if add is not None and self.tamper == "drop-partition-value" and add["partitionValues"]:
                add["partitionValues"].pop(sorted(add["partitionValues"])[0])
            out.append(json.dumps(action))
        log.write_text("\n".join(out) + "\n")

    def append(self, table: Path, *inputs: Path, extra: tuple[str, ...] = ()):
        result = self.cli.append(table, *inputs, extra=extra)
        if result.returncode == 0:
            self.maybe_tamper(table, result.json()["version"])
        return result


# ---------------------------------------------------------------------------
# Direction A: Spark writes, safewrite appends, Spark checks.
# ---------------------------------------------------------------------------


@dataclass
class SparkFirst:
    """One Direction A case: how Spark creates the table and what each
    writer appends."""

    name: str
    create: Callable[["Suite", Path], pa.Table]  # returns the rows Spark wrote
    safewrite_input: Callable[["Suite"], tuple[Path, pa.Table]]
    spark_more: Callable[["Suite"], pa.Table]
    extra_check: Callable[["Suite", Path], tuple[bool, str]] | None = None


def run_spark_first(suite: Suite, case: SparkFirst) -> Scenario:
    sc = Scenario("A", case.name, A_COLUMNS)
    path = suite.new_table_path(case.name)
    expected = case.create(suite, path)
    before = suite.history(path)[0]["version"]

    input_path, input_rows = case.safewrite_input(suite)
    result = suite.append(path, input_path)
    if not sc.set("safewrite append", result.returncode == 0, result.describe() if result.returncode else f"version {result.json()['version']}, {result.json()['numRecords']} rows"):
        for column in A_COLUMNS[1:]:
            sc.na(column, "safewrite append failed")
        return sc
    version = result.json()["version"]
    expected = pa.concat_tables([expected, input_rows.cast(expected.schema)])

    ok, reason = compare_rows(expected, suite.spark_rows(path))
    if ok and case.extra_check is not None:
        ok, reason = case.extra_check(suite, path)
    sc.set("Spark rows", ok, reason)

    entry = next((h for h in suite.history(path) if h["version"] == version), None)
    if entry is None:
        sc.set("Spark history", False, f"DESCRIBE HISTORY has no version {version}")
    else:
        ok = entry["operation"] == "WRITE" and (entry["engineInfo"] or "").startswith("safewrite") and version == before + 1
        sc.set("Spark history", ok, f"version {version}: operation {entry['operation']}, engineInfo {entry['engineInfo']}, readVersion {entry['readVersion']}")

    more = case.spark_more(suite)
    suite.spark_df(more).write.format("delta").mode("append").save(str(path))
    expected = pa.concat_tables([expected, more.cast(expected.schema)])
    ok, reason = compare_rows(expected, suite.spark_rows(path))
    sc.set("Spark append on top", ok, f"Spark appended {more.num_rows} rows; {reason}")

    second = suite.append(path, input_path)
    if second.returncode != 0:
        sc.set("safewrite after Spark", False, second.describe())
        return sc
    expected = pa.concat_tables([expected, input_rows.cast(expected.schema)])
    ok, reason = compare_rows(expected, suite.spark_rows(path))
    info = suite.cli.inspect(path)
    spark_count = suite.spark.read.format("delta").load(str(path)).count()
    if ok and info["numRecords"] != spark_count:
        ok, reason = False, f"inspect numRecords {info['numRecords']} but Spark counts {spark_count}"
    sc.set("safewrite after Spark", ok, f"version {second.json()['version']}; {reason}")
    return sc


def flights_create(suite: Suite, path: Path, rows: pa.Table, partition_by: list[str] | None = None, properties: dict | None = None) -> pa.Table:
    df = suite.spark_df(rows)
    writer = df.write.format("delta")
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(str(path))
    return rows


def spark_first_cases(suite: Suite) -> list[SparkFirst]:
    airports = suite.shared / "data" / "airports.csv"
    birdstrikes = suite.shared / "data" / "birdstrikes.csv"

    def csv_rows(path: Path, schema) -> pa.Table:
        return suite.spark.read.option("header", True).schema(schema).csv(str(path)).toArrow()

    # airports.csv: strings and doubles, no timestamp (so no table feature).
    airports_schema = "iata STRING, name STRING, city STRING, state STRING, country STRING, latitude DOUBLE, longitude DOUBLE"

    def airports_create(s, path):
        first = s.write_csv_rows(airports, 0, 2000, "airports-0-2000")
        rows = csv_rows(first, airports_schema)
        s.spark.read.option("header", True).schema(airports_schema).csv(str(first)).write.format("delta").save(str(path))
        return rows

    def airports_input(s):
        rest = s.write_csv_rows(airports, 2000, 10**9, "airports-2000-end")
        return rest, csv_rows(rest, airports_schema)

    def airports_more(s):
        return csv_rows(s.write_csv_rows(airports, 0, 100, "airports-0-100"), airports_schema)

    # birdstrikes.csv: names with spaces and "$", so column mapping is needed.
    bird_schema = (
        "`Airport Name` STRING, `Aircraft Make Model` STRING, `Effect Amount of damage` STRING, "
        "`Flight Date` DATE, `Aircraft Airline Operator` STRING, `Origin State` STRING, "
        "`Phase of flight` STRING, `Wildlife Size` STRING, `Wildlife Species` STRING, "
        "`Time of day` STRING, `Cost Other` {int}, `Cost Repair` {int}, `Cost Total $` {int}, "
        "`Speed IAS in knots` {int}"
    )

    def bird_create(int_type):
        return lambda s, path: bird_create_typed(s, path, bird_schema.format(int=int_type))

    def bird_create_typed(s, path, schema):
        first = s.write_csv_rows(birdstrikes, 0, 5000, "bird-0-5000")
        rows = csv_rows(first, schema)
        (
            s.spark.read.option("header", True).schema(schema).csv(str(first))
            .write.format("delta")
            .option("delta.columnMapping.mode", "name")
            .option("delta.minReaderVersion", "2")
            .option("delta.minWriterVersion", "5")
            .save(str(path))
        )
        return rows

    def bird_input(s):
        rest = s.write_csv_rows(birdstrikes, 5000, 10**9, "bird-5000-end")
        return rest, csv_rows(rest, bird_schema.format(int="BIGINT"))

    def bird_more(int_type):
        return lambda s: csv_rows(s.write_csv_rows(birdstrikes, 0, 50, "bird-0-50"), bird_schema.format(int=int_type))

    def flights_input(offset, length, with_day=False):
        def make(s):
            rows = s.flights_slice(offset, length, with_day)
            return s.write_parquet(rows, f"flights-{offset}-{length}{'-day' if with_day else ''}"), rows
        return make

    def flights_more(offset, length, with_day=False):
        return lambda s: s.flights_slice(offset, length, with_day)

    def checkpoint_create(s, path):
        # 20 Spark commits (versions 0 to 19): Spark writes the checkpoint at
        # version 10, and safewrite's append is version 20, where the default
        # delta.checkpointInterval of 10 calls for a checkpoint.
        parts = []
        for i in range(20):
            rows = s.flights_slice(i * 500, 500)
            s.spark_df(rows).write.format("delta").mode("append").save(str(path))
            parts.append(rows)
        return pa.concat_tables(parts)

    def checkpoint_check(s, path):
        log = path / "_delta_log"
        checkpoints = sorted(p.name for p in log.glob("*.checkpoint*.parquet"))
        last = json.loads((log / "_last_checkpoint").read_text()) if (log / "_last_checkpoint").exists() else None
        ok = any(name.startswith(f"{20:020d}.checkpoint") for name in checkpoints)
        return ok, f"rows equal; checkpoints {checkpoints}; _last_checkpoint version {last and last.get('version')}"

    def dv_create(s, path):
        rows = s.flights_slice(0, 20_000)
        flights_create(s, path, rows, properties={"delta.enableDeletionVectors": "true"})
        s.sql(f"DELETE FROM delta.`{path}` WHERE delay > 60")
        dvs = [p for p in path.glob("deletion_vector_*.bin")]
        if not dvs:
            raise RuntimeError("Spark's DELETE wrote no deletion vector file; the case would not test deletion vectors")
        return rows.filter(pc.invert(pc.greater(rows.column("delay"), 60)))

    def day_partition_create(s, path):
        return flights_create(s, path, s.flights_slice(0, 20_000, with_day=True), partition_by=["day"])

    return [
        SparkFirst("unpartitioned (airports.csv)", airports_create, airports_input, airports_more),
        SparkFirst(
            "partitioned by string (origin)",
            lambda s, p: flights_create(s, p, s.flights_slice(0, 20_000), partition_by=["origin"]),
            flights_input(20_000, 20_000),
            flights_more(40_000, 2_000),
        ),
        SparkFirst("partitioned by date (day)", day_partition_create, flights_input(20_000, 20_000, True), flights_more(40_000, 2_000, True)),
        SparkFirst("20 Spark commits, checkpoint", checkpoint_create, flights_input(10_000, 5_000), flights_more(15_000, 500), checkpoint_check),
        SparkFirst("column mapping name (birdstrikes.csv)", bird_create("BIGINT"), bird_input, bird_more("BIGINT")),
        # The table types these columns INT while safewrite's CSV inference
        # alone would give long: the append must read the CSV with the
        # table's types.
        SparkFirst("CSV into INT columns (birdstrikes.csv)", bird_create("INT"), bird_input, bird_more("INT")),
        SparkFirst("deletion vectors, rows deleted", dv_create, flights_input(20_000, 20_000), flights_more(40_000, 2_000)),
        SparkFirst(
            "timestampNtz (flights)",
            lambda s, p: flights_create(s, p, s.flights_slice(0, 20_000)),
            flights_input(20_000, 30_000),
            flights_more(50_000, 2_000),
        ),
        SparkFirst(
            "delta.appendOnly",
            lambda s, p: flights_create(s, p, s.flights_slice(0, 20_000), properties={"delta.appendOnly": "true"}),
            flights_input(20_000, 20_000),
            flights_more(40_000, 2_000),
        ),
    ]


@dataclass
class Refusal:
    """A Direction A case where safewrite must reject the append."""

    name: str
    feature: str
    create: Callable[["Suite", Path], None]
    input_with_day: bool = False


def run_refusal(suite: Suite, case: Refusal) -> Scenario:
    sc = Scenario("A", case.name, REFUSAL_COLUMNS)
    path = suite.new_table_path(case.name)
    case.create(suite, path)
    before_files = tree_listing(path)
    before_version = suite.history(path)[0]["version"]

    rows = suite.flights_slice(20_000, 5_000, with_day=case.input_with_day)
    result = suite.append(path, suite.write_parquet(rows, f"refusal-{suite.counter}"))
    message = result.stderr + result.stdout
    ok = result.returncode != 0 and case.feature in message
    if result.returncode == 0:
        reason = f"append was accepted (version {result.json()['version']}); it must be rejected because the table uses {case.feature}"
    elif case.feature not in message:
        reason = f"rejected, but the error does not name {case.feature}: {result.describe()}"
    else:
        reason = result.describe()
    sc.set("safewrite append", ok, reason)

    after_files = tree_listing(path)
    after_version = suite.history(path)[0]["version"]
    added = sorted(set(after_files) - set(before_files))
    removed = sorted(set(before_files) - set(after_files))
    changed = sorted(k for k in before_files if k in after_files and before_files[k] != after_files[k])
    ok = after_version == before_version and not added and not removed and not changed
    sc.set(
        "table unchanged",
        ok,
        f"version {before_version} -> {after_version}; files added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"
        if not ok
        else f"version {after_version}, {len(after_files)} files, none added or changed",
    )
    return sc


def refusal_cases() -> list[Refusal]:
    flights_columns = [("date", "TIMESTAMP_NTZ"), ("delay", "BIGINT"), ("distance", "BIGINT"), ("origin", "STRING"), ("destination", "STRING")]

    def flights_table(properties: dict | None = None, generated: bool = False, identity: bool = False):
        def create(s: Suite, path: Path):
            from delta.tables import DeltaTable, IdentityGenerator

            # The DeltaTable builder, because Spark 4.0.1 SQL rejects
            # GENERATED ALWAYS AS in CREATE TABLE ... USING DELTA.
            builder = DeltaTable.create(s.spark).location(str(path))
            for name, kind in flights_columns:
                builder = builder.addColumn(name, kind)
            if generated:
                builder = builder.addColumn("day", "DATE", generatedAlwaysAs="CAST(date AS DATE)")
            if identity:
                builder = builder.addColumn("id", "BIGINT", generatedAlwaysAs=IdentityGenerator())
            for key, value in (properties or {}).items():
                builder = builder.property(key, value)
            builder.execute()
            names = ", ".join(name for name, _ in flights_columns)
            s.spark_df(s.flights_slice(0, 5_000)).createOrReplaceTempView("flights_rows")
            s.sql(f"INSERT INTO delta.`{path}` ({names}) SELECT {names} FROM flights_rows")
        return create

    def check_constraint(s: Suite, path: Path):
        flights_table()(s, path)
        s.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT delay_range CHECK (delay > -10000)")

    return [
        Refusal("change data feed enabled", "changeDataFeed", flights_table(properties={"delta.enableChangeDataFeed": "true"})),
        Refusal("CHECK constraint", "checkConstraints", check_constraint),
        Refusal("generated column", "generatedColumns", flights_table(generated=True), input_with_day=True),
        Refusal("identity column", "identityColumns", flights_table(identity=True)),
    ]


# ---------------------------------------------------------------------------
# Direction B: safewrite writes, everyone reads.
# ---------------------------------------------------------------------------


@dataclass
class SafewriteOnly:
    """A Direction B case: the appends safewrite makes, each an input file
    and the rows in it as pyarrow reads them."""

    name: str
    appends: Callable[["Suite"], list[tuple[Path, pa.Table]]]
    flags: tuple[str, ...] = ()
    expect_checkpoint: int | None = None


def run_safewrite_only(suite: Suite, case: SafewriteOnly) -> Scenario:
    sc = Scenario("B", case.name, B_COLUMNS)
    path = suite.new_table_path(case.name)
    appends = case.appends(suite)
    for i, (input_path, _) in enumerate(appends):
        result = suite.append(path, input_path, extra=case.flags if i == 0 else ())
        if result.returncode != 0:
            for column in B_COLUMNS:
                sc.set(column, False, f"safewrite append {i} failed: {result.describe()}") if column == B_COLUMNS[0] else sc.na(column, "safewrite append failed")
            return sc
    info = suite.cli.inspect(path)
    schema = harness.arrow_schema_from_inspect(info["columns"])
    expected = pa.concat_tables([rows.select(schema.names).cast(schema) for _, rows in appends])
    first_rows = appends[0][1].select(schema.names).cast(schema)

    ok, reason = compare_rows(expected, suite.spark_rows(path))
    if ok and case.expect_checkpoint is not None:
        checkpoint = info.get("checkpointVersion")
        ok = checkpoint == case.expect_checkpoint
        reason += f"; checkpoint version {checkpoint} (expected {case.expect_checkpoint})"
    sc.set("Spark rows", ok, reason)

    count = suite.spark.read.format("delta").load(str(path)).count()
    sc.set("Spark count (stats)", count == expected.num_rows, f"count() {count}, expected {expected.num_rows}, inspect numRecords {info['numRecords']}")

    try:
        from deltalake import DeltaTable

        ok, reason = compare_rows(expected, DeltaTable(str(path)).to_pyarrow_table())
        sc.set("delta-rs rows", ok, reason)
    except Exception as err:  # any reader error is this cell's failure
        if "columnMapping" in str(err) and "not yet supported" in str(err):
            sc.na("delta-rs rows", f"deltalake {harness.package_versions()['deltalake']} does not read column mapping: {str(err)[:200]}")
        else:
            sc.set("delta-rs rows", False, f"{type(err).__name__}: {str(err)[:300]}")

    if suite.duckdb_extension is None:
        sc.na("DuckDB rows", "extension not installable offline")
    else:
        try:
            import duckdb

            con = duckdb.connect()
            con.execute(f"LOAD '{suite.duckdb_extension}'")
            ok, reason = compare_rows(expected, con.execute(f"SELECT * FROM delta_scan('{path}')").to_arrow_table())
            con.close()
            sc.set("DuckDB rows", ok, reason)
        except Exception as err:
            sc.set("DuckDB rows", False, f"{type(err).__name__}: {str(err)[:300]}")

    detail = suite.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0].asDict()
    ok = detail["numFiles"] == info["numFiles"] and detail["sizeInBytes"] == info["sizeBytes"]
    sc.set("DESCRIBE DETAIL", ok, f"Spark numFiles {detail['numFiles']}, sizeInBytes {detail['sizeInBytes']}; safewrite numFiles {info['numFiles']}, sizeBytes {info['sizeBytes']}")

    listed = [r[0] for r in suite.sql(f"VACUUM delta.`{path}` RETAIN 0 HOURS DRY RUN").collect()]
    sc.set("VACUUM DRY RUN", not listed, "no files to delete" if not listed else f"{len(listed)} files would be deleted, e.g. {listed[:3]}")

    if len(appends) < 2:
        sc.na("RESTORE v0", "one version only")
        sc.na("safewrite after RESTORE", "one version only")
        return sc
    suite.sql(f"RESTORE TABLE delta.`{path}` TO VERSION AS OF 0")
    ok, reason = compare_rows(first_rows, suite.spark_rows(path))
    sc.set("RESTORE v0", ok, reason)

    input_path, rows = appends[-1]
    result = suite.append(path, input_path)
    if result.returncode != 0:
        sc.set("safewrite after RESTORE", False, result.describe())
        return sc
    expected = pa.concat_tables([first_rows, rows.select(schema.names).cast(schema)])
    ok, reason = compare_rows(expected, suite.spark_rows(path))
    reason = "Spark: " + reason
    if ok and "--column-mapping" not in case.flags:
        from deltalake import DeltaTable

        ok, reason = compare_rows(expected, DeltaTable(str(path)).to_pyarrow_table())
        reason = "Spark and delta-rs: " + reason
    elif ok:
        # Spark's RESTORE lowers the protocol to reader version 2, which
        # deltalake 1.6.6 then reads without column mapping: every value null.
        reason += " (delta-rs not compared: it returns null columns for column mapping at reader version 2)"
    sc.set("safewrite after RESTORE", ok, f"version {result.json()['version']}; {reason}")
    return sc


def safewrite_only_cases() -> list[SafewriteOnly]:
    def flights_appends(sizes: list[int], with_day: bool = False):
        def make(s: Suite):
            out, offset = [], 0
            for size in sizes:
                rows = s.flights_slice(offset, size, with_day)
                out.append((s.write_parquet(rows, f"b-flights-{offset}-{size}{'-day' if with_day else ''}"), rows))
                offset += size
            return out
        return make

    def csv_appends(name: str, splits: list[tuple[int, int]], column_types: dict):
        def make(s: Suite):
            source = s.shared / "data" / name
            out = []
            for start, stop in splits:
                path = s.write_csv_rows(source, start, stop, f"b-{name}-{start}")
                rows = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=column_types))
                out.append((path, rows))
            return out
        return make

    bird_types = {
        "Flight Date": pa.date32(),
        "Cost Other": pa.int64(),
        "Cost Repair": pa.int64(),
        "Cost Total $": pa.int64(),
        "Speed IAS in knots": pa.int64(),
    }
    return [
        SafewriteOnly("plain (flights parquet)", flights_appends([30_000, 20_000])),
        SafewriteOnly("plain, re-encoded (--rewrite)", flights_appends([30_000, 20_000]), flags=("--rewrite",)),
        SafewriteOnly("CSV input (airports.csv)", csv_appends("airports.csv", [(0, 2000), (2000, 10**9)], {"latitude": pa.float64(), "longitude": pa.float64()})),
        SafewriteOnly("partitioned by string (origin)", flights_appends([30_000, 20_000]), flags=("--partition-by", "origin")),
        SafewriteOnly("partitioned by date (day)", flights_appends([30_000, 20_000], with_day=True), flags=("--partition-by", "day")),
        SafewriteOnly("12 appends, checkpoint", flights_appends([2_000] * 12), expect_checkpoint=10),
        SafewriteOnly(
            "column mapping name (birdstrikes.csv)",
            csv_appends("birdstrikes.csv", [(0, 5000), (5000, 10**9)], bird_types),
            flags=("--column-mapping", "name"),
        ),
    ]


# ---------------------------------------------------------------------------
# Matrix
# ---------------------------------------------------------------------------


def cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "fail: not run"
    reason = cell.reason.replace("|", "\\|").replace("\n", " ")
    return f"**{cell.status}**: {reason}"


def matrix_table(scenarios: list[Scenario], columns: list[str]) -> list[str]:
    lines = ["| scenario | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for sc in scenarios:
        cells = [cell_text(sc.cells.get(c)) if c in sc.columns else "n/a" for c in columns]
        lines.append(f"| {sc.name} ({sc.seconds:.0f} s) | " + " | ".join(cells) + " |")
    return lines


def write_matrix(out: Path, scenarios: list[Scenario], versions: dict, go_version: str, seconds: float, command: str) -> None:
    a = [s for s in scenarios if s.direction == "A" and s.columns == A_COLUMNS]
    refusals = [s for s in scenarios if s.direction == "A" and s.columns == REFUSAL_COLUMNS]
    b = [s for s in scenarios if s.direction == "B"]
    failed = sum(1 for s in scenarios for c in s.cells.values() if c.status == FAIL)
    passed = sum(1 for s in scenarios for c in s.cells.values() if c.status == PASS)
    lines = [
        "# Delta conformance matrix",
        "",
        "Generated by `conformance/spark_suite.py` through `bash conformance/run.sh`;",
        "do not edit by hand. Each cell is the result of the last full run.",
        "",
        f"Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {seconds:.0f} s, "
        f"{passed} cells passed, {failed} failed. Command: `{command}`.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + f", Spark jars io.delta:delta-spark_2.13:{versions.get('delta-spark')}, {go_version}.",
        "Spark runs in local[2] mode with Java " + java_version() + ".",
        "",
        "## Direction A: Spark writes, safewrite appends, Spark checks",
        "",
        "Spark creates the table. `safewrite append` adds real rows; Spark reads the",
        "table back and compares the full row multiset with what both writers wrote;",
        "DESCRIBE HISTORY must show safewrite's commit as WRITE. Spark then appends on",
        "top, and safewrite appends once more after Spark's commit.",
        "",
        *matrix_table(a, A_COLUMNS),
        "",
        "### Tables whose features safewrite must reject",
        "",
        "The append must exit non-zero with an error naming the feature, and leave the",
        "table as it was: same version, same files (every file under the table root).",
        "",
        *matrix_table(refusals, REFUSAL_COLUMNS),
        "",
        "## Direction B: safewrite writes, everyone reads",
        "",
        "Only safewrite writes these tables. Spark, delta-rs and DuckDB must each return",
        "exactly the rows of the input files as pyarrow reads them. `count()` in Spark",
        "answers from the add actions' numRecords. DESCRIBE DETAIL must agree with",
        "`safewrite inspect --json` on numFiles and sizeInBytes. VACUUM RETAIN 0 HOURS",
        "DRY RUN must list nothing (safewrite leaves no orphans and `_safewrite/` is",
        "skipped). RESTORE TO VERSION AS OF 0 must bring back the first append's rows,",
        "and safewrite must append after Spark's RESTORE commit.",
        "",
        *matrix_table(b, B_COLUMNS),
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))


def java_version() -> str:
    import subprocess

    text = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    return text.splitlines()[0].split('"')[1] if '"' in text else "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--safewrite", required=True, help="path of the safewrite binary")
    parser.add_argument("--out", default=str(harness.REPO_ROOT / "docs" / "conformance.md"), help="matrix file to write")
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this text")
    parser.add_argument("--keep", action="store_true", help="keep the temporary tables")
    parser.add_argument("--go-version", default="go unknown", help="Go version line for the matrix")
    parser.add_argument("--command", default="bash conformance/run.sh", help="command line recorded in the matrix")
    parser.add_argument(
        "--tamper",
        choices=["num-records", "drop-partition-value"],
        help="corrupt every safewrite commit the way a broken writer would, to show the suite fails; never for a real run",
    )
    args = parser.parse_args()

    started = time.monotonic()
    shared = harness.shared_dir()
    work = Path(tempfile.mkdtemp(prefix="safewrite-conformance-"))
    spark = harness.spark_session()
    suite = Suite(spark, SafewriteCLI(args.safewrite), work, shared, args.tamper)

    jobs: list[tuple[str, Callable[[], Scenario]]] = []
    for case in spark_first_cases(suite):
        jobs.append((f"A {case.name}", lambda c=case: run_spark_first(suite, c)))
    for case in refusal_cases():
        jobs.append((f"A {case.name}", lambda c=case: run_refusal(suite, c)))
    for case in safewrite_only_cases():
        jobs.append((f"B {case.name}", lambda c=case: run_safewrite_only(suite, c)))

    scenarios = []
    for label, job in jobs:
        if args.only and args.only not in label:
            continue
        t0 = time.monotonic()
        try:
            sc = job()
        except Exception as err:  # a crashed scenario is a failed row, not a crashed suite
            traceback.print_exc()
            direction, name = label.split(" ", 1)
            sc = Scenario(direction, name, B_COLUMNS if direction == "B" else A_COLUMNS)
            for column in sc.columns:
                sc.cells.setdefault(column, Cell(FAIL, f"scenario raised {type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"))
        sc.seconds = time.monotonic() - t0
        scenarios.append(sc)
        status = "FAIL" if any(c.status == FAIL for c in sc.cells.values()) else "ok"
        print(f"{status:4} {label} ({sc.seconds:.0f} s)", flush=True)
        for column, cell in sc.cells.items():
            if cell.status == FAIL:
                print(f"     {column}: {cell.reason}", flush=True)

    write_matrix(Path(args.out), scenarios, harness.package_versions(), args.go_version, time.monotonic() - started, args.command)
    spark.stop()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"tables kept in {work}")
    failed = sum(1 for s in scenarios for c in s.cells.values() if c.status == FAIL)
    passed = sum(1 for s in scenarios for c in s.cells.values() if c.status == PASS)
    skipped = sum(1 for s in scenarios for c in s.cells.values() if c.status == NA)
    print(f"conformance: {passed} passed, {failed} failed, {skipped} skipped")
    print(f"matrix written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit skips interpreter teardown, where the deltalake extension's
    # runtime threads can abort the process (deltalake 1.6.6 prints
    # "terminate called without an active exception").
    os._exit(code)
