"""Every BI client opens the published warehouse: the README's recipes run as written against a real
publication, with older DuckDB releases, the DuckDB CLI, SQLAlchemy + duckdb-engine (as Superset connects),
@duckdb/node-api (Evidence's engine) and Parquet readers, each installed into a throwaway environment.

Also: what the publication holds (storage version, dbt comments, Chinese-labelled views, Parquet manifest with
sha256), a bad storage-version setting, and how a pooled reader sees each new publication."""

from __future__ import annotations

import ast
import decimal
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.integration.bi_warehouse import hostile_published_warehouse, node_client, python_env

pytestmark = pytest.mark.integration

README = Path(__file__).parents[2] / "README.md"
OLDEST_DUCKDB = "1.1.3"
CLIENTS = [
    "duckdb==1.4.4",
    "duckdb-cli==1.5.6",  # 1.4.4's wheel installs its binary without the executable bit
    "sqlalchemy==2.0.44",  # the newest that reads columns through DuckDB < 2 (README)
    "duckdb-engine==0.17.0",
    "pandas",
    "polars",
    "pyarrow",
]
CLIENTS_ENV = "clients-duckdb-1.4.4-cli-1.5.6-sqlalchemy-2.0.44"
NODE_API = "1.5.6-r.1"


def recipe(name: str) -> str:
    """The code block following `<!-- recipe: name -->` in the README."""
    match = re.search(rf"<!-- recipe: {name} -->\n```\w+\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, f"README has no recipe {name}"
    return match.group(1)


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return hostile_published_warehouse()


@pytest.fixture(scope="module")
def root(env) -> Path:
    """The folder holding warehouse/: the recipes' relative paths resolve from here."""
    return Path(env["SHEGONG_WAREHOUSE_DIR"]).parent


@pytest.fixture(scope="module")
def truth(env) -> dict:
    """Figures read with the project's own DuckDB, to compare every client's answer with."""
    con = duckdb.connect(str(Path(env["SHEGONG_WAREHOUSE_DIR"]) / "shegong.duckdb"), read_only=True)
    try:
        return {
            "funding": dict(
                con.execute(
                    "select funding_source, sum(amount_yuan) from marts.fct_funding group by all"
                ).fetchall()
            ),
            "regions": dict(
                con.execute("select region_level, count(*) from marts.dim_region group by all").fetchall()
            ),
            "workforce_rows": con.execute("select count(*) from marts.fct_workforce_monthly").fetchone()[0],
            "reconciliation": dict(
                con.execute(
                    "select metric_code, count(*) from marts.fct_indicator_reconciliation group by all"
                ).fetchall()
            ),
            "run_id": con.execute("select run_id from audit.publications").fetchone()[0],
        }
    finally:
        con.close()


def run_python(bin_dir: Path, code: str, cwd: Path) -> str:
    result = subprocess.run(
        [str(bin_dir / "python"), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def literal_lines(stdout: str) -> list:
    return [eval(line, {"Decimal": decimal.Decimal}) for line in stdout.strip().splitlines()]


@pytest.mark.parametrize("release", [OLDEST_DUCKDB, "1.4.4"])
def test_older_duckdb_releases_open_the_file_with_the_python_recipe(release, root, truth):
    bin_dir = python_env(f"duckdb-{release}", [f"duckdb=={release}"])
    version = run_python(bin_dir, "import duckdb; print(duckdb.__version__)", root).strip()
    assert version == release
    by_source, by_label = literal_lines(run_python(bin_dir, recipe("python-duckdb"), root))
    assert dict(by_source) == truth["funding"]
    assert sum(n for _, n in by_label) > 0 and {s for s, _ in by_label} == set(truth["funding"])


def test_the_published_file_is_in_the_configured_storage_format_and_documented(env, root):
    con = duckdb.connect(str(root / "warehouse" / "shegong.duckdb"), read_only=True)
    try:
        (storage,) = con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'shegong'"
        ).fetchone() or (None,)
        described = con.execute(
            """select count(*), count(comment) filter (where comment <> '') from duckdb_columns()
               where schema_name = 'marts'"""
        ).fetchone()
        table_comment = con.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'fct_funding'"
        ).fetchone()[0]
        views = dict(
            con.execute(
                "select view_name, comment from duckdb_views() where schema_name = 'marts_zh'"
            ).fetchall()
        )
        marts = con.execute("select count(*) from duckdb_tables() where schema_name = 'marts'").fetchone()[0]
        labelled_columns = con.execute(
            """select column_name from duckdb_columns()
               where schema_name = 'marts_zh' and table_name = '政府购买服务资金合同事实表'"""
        ).fetchall()
    finally:
        con.close()
    if storage is not None:  # DuckDB 2 reports the storage version among a database's tags
        assert storage.startswith("v1.0.0")
    columns, with_comment = described
    assert with_comment == columns, "every mart column carries its dbt description"
    assert table_comment.startswith("政府购买服务资金合同事实表 — ") and "funding contract" in table_comment
    assert len(views) == marts and all(comment.startswith("marts.") for comment in views.values())
    assert ("合同编号",) in labelled_columns and ("amount_yuan",) not in labelled_columns


def test_the_duckdb_cli_recipe(root, truth):
    bin_dir = python_env(CLIENTS_ENV, CLIENTS)
    environment = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = subprocess.run(
        ["bash", "-c", recipe("duckdb-cli")],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for level, count in truth["regions"].items():
        assert re.search(rf"\b{level}\b\s*│\s*{count}\b", result.stdout), result.stdout


def test_the_sqlalchemy_recipe_reads_columns_as_superset_does(root, truth):
    bin_dir = python_env(CLIENTS_ENV, CLIENTS)
    columns, rows = literal_lines(run_python(bin_dir, recipe("sqlalchemy"), root))
    assert columns[:3] == ["contract_no", "project_name", "funding_source"]
    assert "amount_yuan" in columns
    assert rows == truth["workforce_rows"]


def test_the_node_recipe_queries_a_mart_with_duckdb_node_api(root, truth):
    folder = node_client(NODE_API)
    script = folder / "recipe.mjs"
    script.write_text(recipe("node"), encoding="utf-8")
    result = subprocess.run(["node", str(script)], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert {r["metric_code"]: int(r["n"]) for r in rows} == truth["reconciliation"]


def test_the_parquet_recipe_and_the_exports_manifest(root, truth):
    exports = root / "warehouse" / "exports"
    current = exports / "current"
    assert current.is_symlink() and (exports / os.readlink(current)).is_dir()
    manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == truth["run_id"]
    tables = {t["table"]: t for t in manifest["tables"]}
    con = duckdb.connect(str(root / "warehouse" / "shegong.duckdb"), read_only=True)
    try:
        marts = {
            f"marts.{name}" for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }  # fmt: skip
        for name, table in tables.items():
            path = current / table["file"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == table["sha256"], name
            assert con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0] == table["rows"]
            assert con.execute(f"select count(*) from {name}").fetchone()[0] == table["rows"]
    finally:
        con.close()
    assert marts <= set(tables)
    assert {"audit.ingested_files", "audit.quarantined_rows", "audit.audit_validation_results"} <= set(tables)
    duckdb_file = root / "warehouse" / "shegong.duckdb"
    assert manifest["duckdb"]["sha256"] == hashlib.sha256(duckdb_file.read_bytes()).hexdigest()
    assert manifest["duckdb"]["storage_version"] == "v1.0.0"
    funding_columns = [c["name"] for c in tables["marts.fct_funding"]["columns"]]
    assert funding_columns[0] == "contract_no"

    bin_dir = python_env(CLIENTS_ENV, CLIENTS)
    stdout = run_python(bin_dir, recipe("parquet"), root)
    assert truth["run_id"] in stdout.splitlines()[0]
    for source, amount in truth["funding"].items():  # pandas sums the Parquet decimals exactly
        assert re.search(rf"^{source}\s+{re.escape(str(amount))}$", stdout, re.M), stdout
    for level, count in truth["regions"].items():
        assert re.search(rf"{level}\s*┆\s*{count}\b", stdout), stdout


def test_a_pooled_reader_sees_each_new_publication_with_the_attach_recipe(env, tmp_path):
    """Two real publications of the same build in one process: plain connections to the path share the first
    publication while one stays open; the README's per-connection attach sees the second at once."""
    from shegong.config import DBT_PROJECT_DIR
    from shegong.publish import publish

    build = tmp_path / "build.duckdb"
    shutil.copyfile(env["SHEGONG_DUCKDB"], build)
    con = duckdb.connect(str(build), read_only=True)
    (run_id,) = con.execute("select run_id from audit.publications").fetchone()
    con.close()
    published = tmp_path / "warehouse" / "shegong.duckdb"
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    publish(build, published, run_id, dbt_manifest=manifest, exports_dir=tmp_path / "warehouse" / "exports")

    namespace: dict = {}
    code = recipe("pooled").replace("warehouse/shegong.duckdb", str(published))
    exec(compile(code, "README recipe: pooled", "exec"), namespace)
    count = "select count(*) from audit.publications"
    held_plain = duckdb.connect(str(published), read_only=True)
    held_attached = namespace["open_shegong"]()
    assert held_plain.execute(count).fetchone()[0] == held_attached.execute(count).fetchone()[0] == 2

    publish(build, published, run_id, dbt_manifest=manifest, exports_dir=tmp_path / "warehouse" / "exports")
    new_plain = duckdb.connect(str(published), read_only=True)
    new_attached = namespace["open_shegong"]()
    try:
        assert new_plain.execute(count).fetchone()[0] == 2, "a plain connection joins the open database"
        assert new_attached.execute(count).fetchone()[0] == 3, "an attached connection sees the new file"
        assert held_attached.execute(count).fetchone()[0] == 2, "a held connection keeps its version"
    finally:
        for con in (held_plain, held_attached, new_plain, new_attached):
            con.close()
    reopened = duckdb.connect(str(published), read_only=True)
    assert reopened.execute(count).fetchone()[0] == 3
    reopened.close()
    versions = [p for p in (tmp_path / "warehouse" / "exports").iterdir() if not p.name.startswith(".")]
    assert len(versions) == 3  # two version folders and `current`


def test_the_oldest_release_reads_the_next_publication_of_a_changed_build(env, tmp_path):
    """The second publication copies the changed build and records which tables changed: the file keeps its
    storage version, so DuckDB 1.1 still opens it and reads the new figures."""
    from shegong.config import DBT_PROJECT_DIR
    from shegong.publish import PUBLISHED_TABLES, publish

    build = tmp_path / "build.duckdb"
    shutil.copyfile(env["SHEGONG_DUCKDB"], build)
    published = tmp_path / "warehouse" / "shegong.duckdb"
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    publish(build, published, "run-1", dbt_manifest=manifest)
    con = duckdb.connect(str(build))
    con.execute("update marts.fct_funding set amount_yuan = amount_yuan * 2")
    expected = dict(
        con.execute("select funding_source, sum(amount_yuan) from marts.fct_funding group by all").fetchall()
    )
    con.close()
    publish(build, published, "run-2", dbt_manifest=manifest)

    con = duckdb.connect(str(published), read_only=True)
    written = dict(con.execute(f"select table_name, written_by_run from {PUBLISHED_TABLES}").fetchall())
    con.close()
    assert written["marts.fct_funding"] == "run-2" and written["marts.dim_region"] == "run-1"
    bin_dir = python_env(f"duckdb-{OLDEST_DUCKDB}", [f"duckdb=={OLDEST_DUCKDB}"])
    by_source, by_label = literal_lines(run_python(bin_dir, recipe("python-duckdb"), tmp_path))
    assert dict(by_source) == expected
    assert {s for s, _ in by_label} == set(expected)  # the labelled views were made again


def test_a_storage_version_this_duckdb_cannot_write_is_refused_and_nothing_changes(env, tmp_path):
    from shegong.publish import PublishError, publish

    build = tmp_path / "build.duckdb"
    shutil.copyfile(env["SHEGONG_DUCKDB"], build)
    published = tmp_path / "shegong.duckdb"
    published.write_bytes(b"previous publication")
    with pytest.raises(
        PublishError, match=r"SHEGONG_PUBLISH_STORAGE_VERSION='v0\.0\.1' is not a storage version"
    ):
        publish(build, published, "run-x", storage_version="v0.0.1", exports_dir=tmp_path / "exports")
    assert published.read_bytes() == b"previous publication"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build.duckdb", "shegong.duckdb"]  # no leftovers


def test_recipes_in_the_readme_are_each_exercised():
    named = set(re.findall(r"<!-- recipe: ([\w-]+) -->", README.read_text(encoding="utf-8")))
    exercised = set(re.findall(r'recipe\("([\w-]+)"\)', Path(__file__).read_text(encoding="utf-8")))
    assert named and named == exercised
    assert ast.parse(recipe("python-duckdb")) and ast.parse(recipe("pooled"))


def test_every_mart_and_mart_column_has_its_own_chinese_label_in_the_dbt_docs():
    """The marts_zh views are generated from meta.label_zh: a new mart or column needs a label (and a label
    two columns of one mart share would make two view columns of one name)."""
    from shegong.config import DBT_PROJECT_DIR
    from shegong.publish import dbt_relations

    marts = [r for r in dbt_relations(DBT_PROJECT_DIR / "target" / "manifest.json") if r.schema == "marts"]
    assert len(marts) >= 18
    unlabelled = [f"{r.name}.{c}" for r in marts for c, (_, label) in r.columns.items() if not label]
    unlabelled += [r.name for r in marts if not r.label_zh]
    assert unlabelled == []
    for r in marts:
        labels = [label for _, label in r.columns.values()]
        assert len(labels) == len(set(labels)), r.name


def test_two_columns_sharing_a_label_is_refused_with_the_model_and_columns_named():
    from shegong.publish import PublishError, Relation, labelled_view_statements

    relation = Relation("marts", "fct_x", "x", "事实表", {"a": ("", "金额"), "b": ("", "金额")})
    present = {("marts", "fct_x", ""), ("marts", "fct_x", "a"), ("marts", "fct_x", "b")}
    with pytest.raises(
        PublishError, match=r"dbt model fct_x: columns b and a share the Chinese label '金额'"
    ):
        labelled_view_statements([relation], present)
