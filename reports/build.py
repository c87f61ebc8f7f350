"""Build the BI reports: Superset on the warehouse as ``bi_reader``, checked in a real browser.

    POSTSALE_BI_READER_URL=… python -m reports.build [--port 8088] [--home .local/superset]

Steps: bundle the dashboards (``reports/superset/assets``, Superset's native export format) into
a ZIP with the reader's URL injected, set up Superset's SQLite metadata (migrations, the admin,
roles) once, import the bundle (overwriting what an earlier build imported), start Superset in
the background (pid and log in the home), open every dashboard in headless Chromium, and fail
when any chart shows an error or no data.
One screenshot per page. Superset runs from its own locked environment
(``reports/superset/pyproject.toml`` → ``.local/superset-venv``); this module runs in postsale's
and drives it through its command line and the browser (Playwright on the system's Chromium).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from warehouse.embedded import wait_for_port
from warehouse.paths import PROJECT_ROOT, local_dir
from warehouse.redact import redact_text, redact_with_url

SUPERSET_DIR = PROJECT_ROOT / "reports" / "superset"
ASSETS = SUPERSET_DIR / "assets"
CONFIG = SUPERSET_DIR / "superset_config.py"
CHROMIUM = os.environ.get("POSTSALE_CHROMIUM", "/usr/bin/chromium")
ADMIN_USER = "admin"
# Dashboards that read a table another component creates; left out (and said so) until it exists.
OPTIONAL_TABLES = {"score-accuracy": "audit.score_accuracy"}
# A chart has finished when its container holds no loading spinner; errors and empty results
# render as these (Superset 6's chart error alert and its empty state).
SLICE = ".chart-slice"
VIEWPORT = {"width": 1600, "height": 1200}
ERROR_TEXTS = ("There was an issue", "Unexpected error", "Data error", "Network error")
ERROR_ALERT = ".ant-alert-error, [data-test='error-alert']"
EMPTY_TEXTS = ("No results were returned", "No data")


# Superset's "assets" import, the one that overwrites everything it holds (a dashboards import
# keeps existing charts, datasets and the database as they were): run by Superset's Python, the
# bundle's path and the owner from the environment.
IMPORT_ASSETS = """
import os, zipfile
from flask import g
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    g.user = security_manager.find_user(username=os.environ["POSTSALE_REPORTS_OWNER"])
    with zipfile.ZipFile(os.environ["POSTSALE_REPORTS_BUNDLE"]) as bundle:
        ImportAssetsCommand(get_contents_from_bundle(bundle)).run()
"""


def _superset_uri(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def superset_venv() -> Path:
    return Path(os.environ.get("POSTSALE_SUPERSET_VENV", local_dir() / "superset-venv"))


@dataclass
class Page:
    slug: str
    title: str
    charts: dict[str, str]  # uuid -> name
    url: str = ""
    screenshot: Path | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def load_dashboards(assets: Path = ASSETS) -> dict[str, Page]:
    """The dashboards in the bundle, with the charts each lays out (by uuid)."""
    pages = {}
    for path in sorted((assets / "dashboards").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        charts = {
            v["meta"]["uuid"]: v["meta"]["sliceName"]
            for v in doc["position"].values()
            if isinstance(v, dict) and v.get("type") == "CHART"
        }
        pages[doc["slug"]] = Page(doc["slug"], doc["dashboard_title"], charts)
    return pages


def bundle(bi_reader_url: str, out: Path, assets: Path = ASSETS, leave_out: frozenset[str] = frozenset()) -> None:
    """Zip the assets as an import bundle, the database's URI set to ``bi_reader_url``;
    ``leave_out`` dashboards go without their charts and the datasets only they use."""
    files: dict[str, object] = {}
    for path in sorted(assets.rglob("*.yaml")):
        files[path.relative_to(assets).as_posix()] = yaml.safe_load(path.read_text())
    dropped_charts = set()
    for name, doc in list(files.items()):
        if name.startswith("dashboards/") and doc["slug"] in leave_out:
            dropped_charts |= {
                v["meta"]["uuid"] for v in doc["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"
            }
            del files[name]
    for name, doc in list(files.items()):
        if name.startswith("charts/") and doc["uuid"] in dropped_charts:
            del files[name]
    used = {doc["dataset_uuid"] for name, doc in files.items() if name.startswith("charts/")}
    for name, doc in list(files.items()):
        if name.startswith("datasets/") and doc["uuid"] not in used:
            del files[name]
    for name, doc in files.items():
        if name.startswith("databases/"):
            doc["sqlalchemy_uri"] = _superset_uri(bi_reader_url)
    files["metadata.yaml"] = {"version": "1.0.0", "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the reader's password
    with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
        for name, doc in files.items():
            zf.writestr(f"postsale_reports/{name}", yaml.safe_dump(doc, sort_keys=False))


class Superset:
    """Superset's command line and server for one metadata home."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home.resolve()
        self.port = port
        self.pid_file = self.home / "superset.pid"
        self.log = self.home / "superset.log"
        self.bin = superset_venv() / "bin" / "superset"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SUPERSET_CONFIG_PATH": str(CONFIG),
            "POSTSALE_SUPERSET_HOME": str(self.home),
            "FLASK_APP": "superset",
            "SUPERSET_LOAD_EXAMPLES": "no",
            "DO_NOT_TRACK": "1",
            "SCARF_ANALYTICS": "false",
        }

    def run(self, *args: str, secret: str = "") -> None:
        res = subprocess.run([str(self.bin), *args], env=self.env(), capture_output=True, text=True, cwd=self.home)
        if res.returncode != 0:
            out = redact_text((res.stderr or "") + (res.stdout or ""), secret)
            raise RuntimeError(f"superset {args[0]} failed ({res.returncode}):\n{out[-4000:]}")

    def admin_password(self) -> str:
        path = self.home / "admin_password"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(18))
        return path.read_text().strip()

    def init(self) -> None:
        """Migrations, the admin and the roles, once per home and Superset version."""
        if not self.bin.exists():
            raise RuntimeError(f"no Superset at {self.bin}: `make reports` installs it from reports/superset/uv.lock")
        self.home.mkdir(parents=True, exist_ok=True)
        stamp = self.home / "initialised"
        version = (superset_venv() / "pyvenv.cfg").read_text() + CONFIG.read_text()
        if stamp.exists() and stamp.read_text() == version:
            return
        self.run("db", "upgrade")
        password = self.admin_password()
        self.run(
            "fab", "create-admin", "--username", ADMIN_USER, "--firstname", "postsale", "--lastname", "reports",
            "--email", "admin@localhost", "--password", password, secret=password,
        )  # fmt: skip
        self.run("init")
        stamp.write_text(version)

    def import_bundle(self, zip_path: Path, secret: str) -> None:
        """Import (and overwrite) the database, datasets, charts and dashboards of the bundle."""
        env = {**self.env(), "POSTSALE_REPORTS_BUNDLE": str(zip_path), "POSTSALE_REPORTS_OWNER": ADMIN_USER}
        res = subprocess.run(
            [str(self.bin.parent / "python"), "-c", IMPORT_ASSETS],
            env=env,
            capture_output=True,
            text=True,
            cwd=self.home,
        )
        if res.returncode != 0:
            raise RuntimeError(f"importing the dashboards failed:\n{redact_text(res.stderr, secret)[-3000:]}")

    def start(self, timeout: float = 120) -> int:
        """Start the web server in the background (a new session: ``stop`` ends its group)."""
        self.stop()
        log = open(self.log, "ab")
        proc = subprocess.Popen(
            [str(self.bin), "run", "--host", "127.0.0.1", "--port", str(self.port), "--with-threads"],
            env=self.env(),
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid_file.write_text(f"{proc.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"Superset exited ({proc.returncode}); see {self.log}")
            if wait_for_port("127.0.0.1", self.port, 1) and self._healthy():
                return proc.pid
            time.sleep(0.5)
        raise RuntimeError(f"Superset did not answer on {self.url} within {timeout:.0f}s; see {self.log}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> bool:
        if not self.pid_file.exists():
            return False
        pid = int(self.pid_file.read_text().strip() or 0)
        self.pid_file.unlink()
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return False
        for _ in range(50):
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
        return True


def check_pages(
    base_url: str, password: str, pages: dict[str, Page], shots: Path, timeout: float = 120
) -> dict[str, Page]:
    """Open every dashboard in headless Chromium; record each chart's query results and rendered
    state, and a full-page screenshot. A page's ``problems`` are empty when every chart rendered data."""
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            outside: list[str] = []

            def local_only(route) -> None:  # the reports load nothing from the internet
                outside.append(route.request.url)
                route.abort()

            context.route(lambda url: not url.startswith(base_url), local_only)
            page = context.new_page()
            page.goto(f"{base_url}/login/")
            page.fill("input[name=username], #username", ADMIN_USER)
            page.fill("input[name=password], #password", password)
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: "/login" not in url, timeout=timeout * 1000)
            for p in pages.values():
                before = len(outside)
                _check_page(page, base_url, p, shots, timeout)
                p.problems += [f"asked for {url} (outside the server; blocked)" for url in outside[before:]]
        finally:
            browser.close()
    return pages


def _check_page(page, base_url: str, p: Page, shots: Path, timeout: float) -> None:
    started = time.monotonic()
    results: list[dict] = []

    def on_response(resp) -> None:
        if "/api/v1/chart/data" in resp.url:
            try:
                body = resp.json()
            except Exception:  # noqa: BLE001 - an HTML error page is a failure too
                body = {"message": resp.text()[:300]}
            results.append({"status": resp.status, "body": body, "form": resp.request.post_data or ""})

    page.on("response", on_response)
    try:
        p.url = f"{base_url}/superset/dashboard/{p.slug}/"
        api = page.request.get(f"{base_url}/api/v1/dashboard/{p.slug}/charts")
        names = {c["id"]: c["slice_name"] for c in api.json().get("result", [])} if api.ok else {}
        want = len(p.charts)
        if len(names) != want:
            p.problems.append(f"Superset holds {len(names)} charts for the page, its definition {want}")
        page.goto(p.url)
        deadline = time.monotonic() + timeout
        charts = page.locator(SLICE)
        _settle(page, want, results, deadline)
        # The screenshot: the viewport grown to the whole page (a full-page capture resizes it
        # mid-shot, and the dashboard re-lays out blank), then the charts settled again.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(height, 6000))})
        page.wait_for_timeout(1000)
        _settle(page, want, results, deadline)
        page.wait_for_timeout(1500)  # let the charts' animations finish
        if charts.count() != want:
            p.problems.append(f"{charts.count()} charts on the page, {want} in its definition")
        if len(results) < want:
            p.problems.append(f"{len(results)} chart queries answered of {want} within {timeout:.0f}s")
        for r in results:
            p.problems += _query_problems(r, names)
        for i in range(charts.count()):
            chart = charts.nth(i)
            name = names.get(int(chart.get_attribute("data-test-chart-id") or 0), f"chart {i + 1}")
            text = chart.inner_text()
            box = chart.bounding_box()
            if not chart.is_visible() or not box or box["height"] < 40:
                p.problems.append(f"{name}: not drawn on the page")
            elif not chart.locator("canvas, svg, table, .header-line, .big-number").count():
                p.problems.append(f"{name}: drew nothing (no chart, table or number)")
            if chart.locator(".loading").count():
                p.problems.append(f"{name}: still loading")
            shown = [m for m in ERROR_TEXTS if m in text]
            if not shown and chart.locator(ERROR_ALERT).count():
                shown = ["an error alert"]
            if shown:
                p.problems.append(f"{name}: shows an error ({shown[0]!r})")
            for marker in EMPTY_TEXTS:
                if marker in text:
                    p.problems.append(f"{name}: shows no data ({marker!r})")
                    break
        p.screenshot = shots / f"{p.slug}.png"
        page.screenshot(path=str(p.screenshot))
    finally:
        page.remove_listener("response", on_response)
        page.set_viewport_size(VIEWPORT)
        p.seconds = time.monotonic() - started


def _settle(page, want: int, results: list, deadline: float) -> None:
    """Wait until ``want`` charts are on the page, their queries answered and none loading."""
    while time.monotonic() < deadline:
        charts = page.locator(SLICE).count()
        if len(results) >= want and charts >= want and page.locator(f"{SLICE} .loading").count() == 0:
            return
        page.wait_for_timeout(250)


def _query_problems(r: dict, names: dict[int, str]) -> list[str]:
    try:
        form = json.loads(r["form"]) if r["form"] else {}
    except ValueError:
        form = {}
    slice_id = form.get("form_data", {}).get("slice_id")
    label = names.get(slice_id, f"chart {slice_id}")
    body = r["body"] if isinstance(r["body"], dict) else {}
    if r["status"] != 200:
        errors = body.get("errors") or [{"message": body.get("message", "")}]
        return [f"{label}: query failed ({r['status']}): {errors[0].get('message', '')[:300]}"]
    problems = []
    for res in body.get("result", []):
        if res.get("error"):
            problems.append(f"{label}: query error: {str(res['error'])[:300]}")
        elif not res.get("rowcount") and not res.get("data"):
            problems.append(f"{label}: the query returned no rows")
    return problems


def table_exists(url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]


@dataclass
class BuildResult:
    url: str
    home: Path
    pages: dict[str, Page]
    seconds: float
    left_out: dict[str, str]

    @property
    def problems(self) -> list[str]:
        return [f"{p.slug}: {msg}" for p in self.pages.values() for msg in p.problems]


def build(bi_reader_url: str, home: Path, port: int, shots: Path, keep_running: bool = True) -> BuildResult:
    started = time.monotonic()
    superset = Superset(home, port)
    pages = load_dashboards()
    left_out = {slug: table for slug, table in OPTIONAL_TABLES.items() if not table_exists(bi_reader_url, table)}
    for slug in left_out:
        del pages[slug]
    superset.init()
    with tempfile.TemporaryDirectory(dir=home) as tmp:
        zip_path = Path(tmp) / "postsale_reports.zip"
        bundle(bi_reader_url, zip_path, leave_out=frozenset(left_out))
        superset.import_bundle(zip_path, secret=_password_of(bi_reader_url))
    superset.start()
    try:
        check_pages(superset.url, superset.admin_password(), pages, shots)
    finally:
        if not keep_running:
            superset.stop()
    return BuildResult(superset.url, superset.home, pages, time.monotonic() - started, left_out)


def _password_of(url: str) -> str:
    from warehouse.postgres import WarehouseParams

    return WarehouseParams.from_url(url).password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=local_dir() / "superset", help="Superset metadata, pid and log")
    parser.add_argument("--port", type=int, default=int(os.environ.get("POSTSALE_REPORTS_PORT", "8088")))
    parser.add_argument("--screenshots", type=Path, default=local_dir() / "reports" / "screenshots")
    parser.add_argument("--stop", action="store_true", help="stop the background Superset and exit")
    args = parser.parse_args(argv)
    if args.stop:
        print("Superset stopped" if Superset(args.home, args.port).stop() else "Superset was not running")
        return 0
    url = os.environ.get("POSTSALE_BI_READER_URL")
    if not url:
        parser.error("set POSTSALE_BI_READER_URL (the output of `postsale bi-reader --create`)")
    try:
        result = build(url, args.home, args.port, args.screenshots)
    except Exception as exc:  # one line, never the reader's password
        print(f"reports: {redact_with_url(str(exc), url)}", file=sys.stderr)
        return 1
    out = io.StringIO()
    for p in result.pages.values():
        status = "ok" if not p.problems else f"{len(p.problems)} problem(s)"
        print(f"  {p.url}  {len(p.charts)} charts  {status}  {p.screenshot}", file=out)
    for slug, table in result.left_out.items():
        print(f"  {slug}: left out, {table} does not exist yet", file=out)
    print(out.getvalue(), end="")
    if result.problems:
        print("reports: charts failed:\n  " + "\n  ".join(result.problems), file=sys.stderr)
        print(f"Superset still runs at {result.url} to look (make reports-stop); log {args.home / 'superset.log'}")
        return 1
    print(
        f"== reports: {len(result.pages)} pages built and checked in {result.seconds:.0f}s at {result.url} "
        f"(user {ADMIN_USER}, password in {args.home / 'admin_password'}); screenshots in {args.screenshots}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
