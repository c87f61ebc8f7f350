"""The BI reports in a real browser: every dashboard opens in headless Chromium with each of its
charts showing data and no error, on marts dbt built from a simulated world, read as bi_reader."""

from __future__ import annotations

import zipfile

import psycopg
import pytest
import yaml

from reports.build import ASSETS, Superset, bundle, check_pages, load_dashboards
from warehouse.bi_reader import role_name

SLUGS = {
    "book-of-business",
    "journey",
    "renewals",
    "revenue-retention",
    "adoption",
    "owner-portfolio",
    "onboarding",
    "data-quality",
    "score-accuracy",
}


def test_the_bundle_holds_every_page_and_injects_the_reader(tmp_path):
    out = tmp_path / "b.zip"
    bundle("postgresql://bi_reader:s3cret@db.example:5432/wh", out, leave_out=frozenset({"score-accuracy"}))
    with zipfile.ZipFile(out) as zf:
        docs = {n: yaml.safe_load(zf.read(n)) for n in zf.namelist()}
    db = next(d for n, d in docs.items() if "/databases/" in n)
    assert db["sqlalchemy_uri"] == "postgresql+psycopg2://bi_reader:s3cret@db.example:5432/wh"
    assert {d["slug"] for n, d in docs.items() if "/dashboards/" in n} == SLUGS - {"score-accuracy"}
    assert not any("score_accuracy" in (d.get("sql") or "") for n, d in docs.items() if "/datasets/" in n)
    assert set(load_dashboards()) == SLUGS
    assert out.stat().st_mode & 0o077 == 0  # it holds the password
    # The repository's assets hold no credential and read the marts only through SQL kept there.
    for path in ASSETS.rglob("*.yaml"):
        assert "s3cret" not in path.read_text() and "password" not in path.read_text().lower()


def test_every_page_renders_its_charts_with_data(built_reports):
    assert built_reports.problems == []
    assert set(built_reports.pages) == SLUGS
    assert built_reports.left_out == {}
    for page in built_reports.pages.values():
        assert len(page.charts) >= 2, page.slug
        assert page.screenshot and page.screenshot.stat().st_size > 20_000, page.slug
    print(f"\n== reports: {len(built_reports.pages)} pages in {built_reports.seconds:.0f}s; screenshots "
          f"{sorted(str(p.screenshot) for p in built_reports.pages.values())}")  # fmt: skip


def test_the_reader_cannot_write(bi_reader_url):
    with psycopg.connect(bi_reader_url) as conn:
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("delete from marts.dim_accounts")


def test_the_check_fails_on_a_query_error_and_on_an_empty_chart(built_reports, reports_warehouse, tmp_path):
    """The check can fail: a mart the reader may not read, then an empty table, each fail their page."""
    pages = {s: p for s, p in load_dashboards().items() if s in ("renewals", "score-accuracy")}
    with psycopg.connect(reports_warehouse, autocommit=True) as conn:
        conn.execute(f'revoke select on marts.fct_renewals from "{role_name()}"')
        conn.execute("create table audit.score_accuracy_kept as select * from audit.score_accuracy")
        conn.execute("delete from audit.score_accuracy")
        try:
            password = Superset(built_reports.home, 0).admin_password()
            check_pages(built_reports.url, password, pages, tmp_path, timeout=60)
        finally:
            conn.execute(f'grant select on marts.fct_renewals to "{role_name()}"')
            conn.execute("insert into audit.score_accuracy select * from audit.score_accuracy_kept")
            conn.execute("drop table audit.score_accuracy_kept")
    renewals = " ".join(pages["renewals"].problems)
    assert "permission denied" in renewals and "shows an error" in renewals, pages["renewals"].problems
    accuracy = " ".join(pages["score-accuracy"].problems)
    assert "returned no rows" in accuracy, pages["score-accuracy"].problems
