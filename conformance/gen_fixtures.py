"""Generate the small Spark-written Delta tables in conformance/testdata/.

Each case folder contains table/ (the Delta table as Spark wrote it, without
Hadoop's .crc sidecar files), expected.json (every row as one JSON object per
line, sorted) and meta.json (version and number of active files, from
DESCRIBE HISTORY and DESCRIBE DETAIL). fixtures_test.go reads them without a
JVM. Run through run.sh's venv:

    "$(bash conformance/setup.sh | tail -n1)/bin/python" conformance/gen_fixtures.py

Values in expected.json use one text form that the Go test renders too:
dates "YYYY-MM-DD", timestamps "YYYY-MM-DDTHH:MM:SS.ffffff" (UTC for
timestamp, as stored for timestamp_ntz), decimals as strings with their
scale, binary as standard base64, null as null.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ["TZ"] = "UTC"
time.tzset()

import harness  # noqa: E402

TESTDATA = Path(__file__).resolve().parent / "testdata"


def canonical(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if hasattr(value, "asDict"):
        return canonical(value.asDict(recursive=True))
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def save_case(spark, name: str, path: Path) -> None:
    rows = spark.read.format("delta").load(str(path)).collect()
    lines = sorted(json.dumps(canonical(r.asDict(recursive=True)), sort_keys=True) for r in rows)
    case = path.parent
    (case / "expected.json").write_text("".join(line + "\n" for line in lines))
    version = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()[0]["version"]
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]
    meta = {"version": version, "numFiles": detail["numFiles"], "numRows": len(lines), "partitionColumns": list(detail["partitionColumns"])}
    (case / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    for crc in path.rglob(".*.crc"):
        crc.unlink()
    print(f"{name}: version {version}, {detail['numFiles']} files, {len(lines)} rows")


def main() -> int:
    spark = harness.spark_session()
    only = sys.argv[1:]

    def case(name):
        if only and name not in only:
            return None
        folder = TESTDATA / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder / "table"

    def sql(text):
        return spark.sql(text)

    people = "SELECT * FROM VALUES (1, 'ada', 'UK'), (2, 'grace', 'US'), (3, 'linus', 'FI') AS t(id, name, country)"

    if p := case("basic-append"):
        sql(people).coalesce(1).write.format("delta").save(str(p))
        sql("SELECT 4 AS id, 'barbara' AS name, 'US' AS country").write.format("delta").mode("append").save(str(p))
        save_case(spark, "basic-append", p)

    if p := case("partitioned"):
        sql(people).write.format("delta").partitionBy("country").save(str(p))
        save_case(spark, "partitioned", p)

    if p := case("multi-partitioned"):
        sql(
            "SELECT * FROM VALUES (1, 'US', 2024, DATE'2024-03-01'), (2, 'US', 2025, DATE'2025-01-02'), "
            "(3, 'FI', 2025, DATE'2025-06-30'), (4, NULL, 2025, NULL) AS t(id, country, year, day)"
        ).write.format("delta").partitionBy("country", "year").save(str(p))
        save_case(spark, "multi-partitioned", p)

    if p := case("nested-types"):
        sql(
            "SELECT 1 AS id, named_struct('city', 'Oslo', 'zip', 150) AS address, array(1, 2, 3) AS scores, map('a', 1) AS tags "
            "UNION ALL SELECT 2, named_struct('city', 'Lima', 'zip', NULL), array(), map()"
        ).coalesce(1).write.format("delta").save(str(p))
        save_case(spark, "nested-types", p)

    if p := case("all-primitive-types"):
        sql(
            "SELECT CAST(1 AS TINYINT) AS b, CAST(2 AS SMALLINT) AS s, 3 AS i, 4000000000L AS l, CAST(1.5 AS FLOAT) AS f, "
            "0.25D AS d, true AS bool, 'text' AS str, X'CAFE' AS bin, DATE'2024-02-29' AS day, "
            "TIMESTAMP'2024-02-29 12:34:56.789012' AS ts, CAST(12.30 AS DECIMAL(10,2)) AS dec "
            "UNION ALL SELECT CAST(-128 AS TINYINT), CAST(-32768 AS SMALLINT), -2147483648, -9007199254740991L, CAST(-0.5 AS FLOAT), "
            "-1e10D, false, '', X'', DATE'1969-12-31', TIMESTAMP'1969-12-31 23:59:59.999999', CAST(-99999999.99 AS DECIMAL(10,2)) "
            "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
        ).coalesce(1).write.format("delta").save(str(p))
        save_case(spark, "all-primitive-types", p)

    if p := case("no-stats"):
        spark.conf.set("spark.databricks.delta.stats.collect", "false")
        try:
            sql(people).coalesce(1).write.format("delta").save(str(p))
        finally:
            spark.conf.unset("spark.databricks.delta.stats.collect")
        save_case(spark, "no-stats", p)

    if p := case("stats-as-struct"):
        props = {"delta.checkpointInterval": "2", "delta.checkpoint.writeStatsAsStruct": "true", "delta.checkpoint.writeStatsAsJson": "false"}
        writer = sql(people).coalesce(1).write.format("delta")
        for k, v in props.items():
            writer = writer.option(k, v)
        writer.save(str(p))
        for i in (4, 5):
            sql(f"SELECT {i} AS id, 'n{i}' AS name, 'SE' AS country").write.format("delta").mode("append").save(str(p))
        save_case(spark, "stats-as-struct", p)

    if p := case("with-checkpoint"):
        sql(people).coalesce(1).write.format("delta").option("delta.checkpointInterval", "3").save(str(p))
        for i in (4, 5, 6):
            sql(f"SELECT {i} AS id, 'n{i}' AS name, 'NO' AS country").write.format("delta").mode("append").save(str(p))
        save_case(spark, "with-checkpoint", p)

    if p := case("schema-change"):
        sql(people).coalesce(1).write.format("delta").save(str(p))
        sql("SELECT 4 AS id, 'edsger' AS name, 'NL' AS country, 1930 AS born").write.format("delta").mode("append").option("mergeSchema", "true").save(str(p))
        save_case(spark, "schema-change", p)

    if p := case("deletion-vectors"):
        sql(people).coalesce(1).write.format("delta").option("delta.enableDeletionVectors", "true").save(str(p))
        sql(f"DELETE FROM delta.`{p}` WHERE id = 2")
        if not list(p.glob("deletion_vector_*.bin")):
            raise SystemExit("deletion-vectors: Spark's DELETE rewrote the file instead of writing a deletion vector")
        save_case(spark, "deletion-vectors", p)

    if p := case("column-mapping"):
        (
            sql("SELECT 1 AS `Airport Name`, 'ok' AS `Cost Total $` UNION ALL SELECT 2, 'late'")
            .coalesce(1)
            .write.format("delta")
            .option("delta.columnMapping.mode", "name")
            .option("delta.minReaderVersion", "2")
            .option("delta.minWriterVersion", "5")
            .save(str(p))
        )
        sql(f"ALTER TABLE delta.`{p}` RENAME COLUMN `Cost Total $` TO `cost total`")
        sql(f"INSERT INTO delta.`{p}` VALUES (3, 'renamed')")
        save_case(spark, "column-mapping", p)

    if p := case("timestamp-ntz"):
        sql(
            "SELECT 1 AS id, TIMESTAMP_NTZ'2001-01-01 00:01:00' AS at UNION ALL SELECT 2, TIMESTAMP_NTZ'1999-12-31 23:59:59.123456' "
            "UNION ALL SELECT 3, NULL"
        ).coalesce(1).write.format("delta").save(str(p))
        save_case(spark, "timestamp-ntz", p)

    spark.stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
