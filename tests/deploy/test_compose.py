"""docker-compose.yml: valid against the Compose spec, and shaped the way the deployment needs.

No Docker engine here, so the file is checked as data: the JSON Schema of the Compose format,
then the properties a `docker compose up` relies on (health-gated start order, two Celery
workers, one executor, shared Airflow secrets, no secret in the file, named volumes).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import PurePosixPath

import jsonschema
import pytest

from simulator.server import auth as simulator_auth
from tests.deploy import compose_file as cf
from warehouse.paths import PROJECT_ROOT

# Names of values that are secrets (a *_FILE variable holds a path to one, not the secret).
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|FERNET|TOKEN|_KEY)(?!.*_FILE$)")
# Values in .env.example that are not placeholders because they are the simulator's built-in
# demo credentials (simulator/README.md): the default sources accept nothing else.
SIMULATOR_DEMO_CREDENTIALS = {
    "STRIPE_API_KEY": simulator_auth.DEFAULT_STRIPE_KEY,
    "HUBSPOT_TOKEN": simulator_auth.DEFAULT_HUBSPOT_TOKEN,
    "MIXPANEL_USER": simulator_auth.DEFAULT_MIXPANEL_USER,
    "MIXPANEL_SECRET": simulator_auth.DEFAULT_MIXPANEL_SECRET,
}
PROJECT_IMAGE_ROOT = PurePosixPath("/opt/postsale")  # WORKDIR of the Dockerfile's runtime stage


@pytest.fixture(scope="module")
def compose() -> dict:
    return cf.load()


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def spec_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(cf.COMPOSE_SPEC.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _is_one_shot(name: str, services: dict) -> bool:
    """Run to completion (restart "no") and awaited by others with service_completed_successfully."""
    awaited = any(
        (dep or {}).get("condition") == "service_completed_successfully"
        for svc in services.values()
        for dep_name, dep in (svc.get("depends_on") or {}).items()
        if dep_name == name
    )
    return awaited and services[name].get("restart") == "no"


def _airflow_services(services: dict) -> dict[str, dict]:
    return {n: s for n, s in services.items() if cf.command_words(s)[:1] == ["airflow"] or n == "airflow-init"}


def _workers(services: dict) -> dict[str, dict]:
    """Celery workers that `docker compose up` starts (a service with profiles starts only on request)."""
    return {
        n: s
        for n, s in services.items()
        if cf.command_words(s)[:3] == ["airflow", "celery", "worker"] and not s.get("profiles")
    }


# --- the Compose specification -------------------------------------------------------------


def test_validates_against_compose_spec(compose, spec_validator):
    errors = sorted(spec_validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c["services"]["postgres"].update(helthcheck={"test": ["CMD", "true"]}),
        lambda c: (
            c["services"]["redis"]["depends_on"].__setitem__("postgres", {"condition": "healthy"})
            if "depends_on" in c["services"]["redis"]
            else c["services"]["redis"].update(depends_on={"postgres": {"condition": "healthy"}})
        ),
        lambda c: c.update(volumes={"postgres data": None}),
    ],
    ids=["misspelt-key", "bad-condition", "bad-volume-name"],
)
def test_spec_validation_rejects_broken_files(compose, spec_validator, mutate):
    """The schema check above has teeth: the same validator rejects typical mistakes."""
    broken = copy.deepcopy(compose)
    mutate(broken)
    assert list(spec_validator.iter_errors(broken))


def test_secrets_are_required_when_env_is_missing():
    """Without .env, interpolation fails on a secret instead of running with an empty password."""
    with pytest.raises(cf.MissingVariable):
        cf.load(env={})


# --- variables and secrets -----------------------------------------------------------------


def test_every_variable_is_documented_and_every_documented_variable_is_used():
    used = set().union(*(cf.variables_in(v) for _, v in cf.strings(cf.load_raw())))
    documented = set(cf.load_env_file())
    assert used - documented == set(), "used in docker-compose.yml but missing from .env.example"
    assert documented - used == set(), "documented in .env.example but not used by docker-compose.yml"


def test_secret_variables_have_no_default():
    """`${X_PASSWORD:-something}` would silently ship a known password; secrets must be `:?`."""
    offenders = set()
    for _, value in cf.strings(cf.load_raw()):
        for name, op in re.findall(r"(?<!\$)\$\{([A-Za-z0-9_]+)(:?[-?+])?", value):
            if SECRET_NAME.search(name) and op not in (":?", "?"):
                offenders.add(name)
    assert not offenders


def test_no_literal_secret_in_compose_file():
    raw = cf.load_raw()
    for path, value in cf.strings(raw):
        key = path.rsplit(".", 1)[-1]
        if SECRET_NAME.search(key) and "${" not in value:
            pytest.fail(f"{path} holds a literal value")
        # user:password@host in a URL: the password must be interpolated.
        for userinfo in re.findall(r"://([^/@\s]*)@", value):
            _, _, password = userinfo.partition(":")
            assert not password or password.startswith("${"), f"{path}: literal password in a URL"


def test_env_example_holds_placeholders_only():
    env = cf.load_env_file()
    for name, value in env.items():
        if not SECRET_NAME.search(name):
            continue
        if name in SIMULATOR_DEMO_CREDENTIALS:
            assert value == SIMULATOR_DEMO_CREDENTIALS[name], f"{name}: only the simulator's demo value may ship"
        else:
            assert value.startswith("change-me"), f"{name}: a real-looking secret in .env.example"


def test_env_files_stay_out_of_git_and_the_image():
    gitignore = (PROJECT_ROOT / ".gitignore").read_text().split()
    assert ".env" in gitignore
    dockerignore = cf.DOCKERIGNORE.read_text().split()
    assert ".env" in dockerignore


# --- services ------------------------------------------------------------------------------


def test_every_long_running_service_has_a_healthcheck(services):
    long_running = [n for n in services if not _is_one_shot(n, services)]
    assert {"postgres", "redis", "simulator", "airflow-api-server", "airflow-scheduler"} <= set(long_running)
    for name in long_running:
        hc = services[name].get("healthcheck")
        assert hc and not hc.get("disable") and hc.get("test") not in (None, ["NONE"]), name
        assert services[name].get("restart") in ("always", "unless-stopped"), f"{name} is not restarted"


def test_start_order_is_gated_on_health(services):
    for name, svc in services.items():
        for dep_name, dep in (svc.get("depends_on") or {}).items():
            condition = (dep or {}).get("condition")
            assert condition in ("service_healthy", "service_completed_successfully"), f"{name} -> {dep_name}"
            if condition == "service_healthy":
                assert services[dep_name].get("healthcheck"), f"{name} waits on {dep_name}, which has no healthcheck"
            else:
                assert _is_one_shot(dep_name, services), f"{dep_name} is not a one-shot job"
    for name in _airflow_services(services):
        deps = services[name].get("depends_on") or {}
        assert "postgres" in deps, f"{name} starts before the metadata database"
        if name != "airflow-init":
            assert deps.get("airflow-init", {}).get("condition") == "service_completed_successfully", name


def test_airflow_components_are_all_there(services):
    commands = {" ".join(cf.command_words(s)[1:2]) for s in _airflow_services(services).values()}
    assert {"api-server", "scheduler", "dag-processor", "triggerer", "celery"} <= commands


def test_two_celery_workers_with_distinct_hostnames(services):
    workers = _workers(services)
    assert len(workers) >= 2
    for name, svc in workers.items():
        # A fixed hostname or container name would give every replica the same Celery node name.
        assert "hostname" not in svc and "container_name" not in svc, name
        assert "airflow-api-server" in svc["depends_on"], f"{name}: tasks need the execution API"
        env = cf.environment(svc)
        assert "AIRFLOW_CONN_POSTSALE_WAREHOUSE" in env and "AIRFLOW_CONN_STRIPE_API" in env, name


def test_one_executor_and_shared_airflow_configuration(services):
    """Scheduler, api-server and workers must agree, or tasks are queued where nobody listens
    (broker), or their tokens are rejected by the execution API (JWT secret)."""
    shared = [
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
        "AIRFLOW__CELERY__BROKER_URL",
        "AIRFLOW__CELERY__RESULT_BACKEND",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    ]
    envs = {n: cf.environment(s) for n, s in _airflow_services(services).items()}
    for key in shared:
        values = {n: env.get(key) for n, env in envs.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), f"{key}: {values}"
    assert {env["AIRFLOW__CORE__EXECUTOR"] for env in envs.values()} == {"CeleryExecutor"}


def test_execution_api_url_points_at_the_api_server(services):
    url = cf.environment(services["airflow-scheduler"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    m = re.fullmatch(r"http://([a-z0-9-]+):(\d+)/execution/", url)
    assert m, url
    host, port = m.groups()
    assert host in services
    words = cf.command_words(services[host])
    assert words[:2] == ["airflow", "api-server"] and words[words.index("--port") + 1] == port


def test_published_ports_bind_loopback_by_default(services):
    """With .env as shipped, nothing is reachable from the network: the API server included."""
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name}: {port}"


def test_the_simulator_control_is_off_in_compose(services):
    """Bound to 0.0.0.0 without SIMULATOR_CONTROL_TOKEN, `/_control` accepts only the healthcheck."""
    words = cf.command_words(services["simulator"])
    assert words[words.index("--host") + 1] == "0.0.0.0"
    assert "SIMULATOR_CONTROL_TOKEN" not in cf.environment(services["simulator"])
    assert "/_control/clock" in " ".join(services["simulator"]["healthcheck"]["test"])


def test_the_simulator_is_the_default_source(services):
    """Every source Connection is valid JSON, points at the simulator and carries what it accepts."""
    worker, simulator = cf.environment(services["airflow-worker-1"]), cf.environment(services["simulator"])
    words = cf.command_words(services["simulator"])
    assert words[:4] == ["python", "-m", "simulator", "serve"]
    base = f"http://simulator:{words[words.index('--port') + 1]}"
    stripe, hubspot, mixpanel = (json.loads(worker[f"AIRFLOW_CONN_{s}_API"]) for s in ("STRIPE", "HUBSPOT", "MIXPANEL"))
    assert (stripe["host"], stripe["password"]) == (f"{base}/stripe", simulator["SIMULATOR_STRIPE_API_KEY"])
    assert (hubspot["host"], hubspot["password"]) == (f"{base}/hubspot", simulator["SIMULATOR_HUBSPOT_TOKEN"])
    assert (mixpanel["host"], mixpanel["login"], mixpanel["password"]) == (
        f"{base}/mixpanel",
        simulator["SIMULATOR_MIXPANEL_USER"],
        simulator["SIMULATOR_MIXPANEL_SECRET"],
    )
    assert mixpanel["extra"]["engage_base"] == f"{base}/mixpanel"


def test_warehouse_connections_use_the_component_roles(services):
    env = cf.load_env_file()
    conns = cf.environment(services["airflow-worker-1"])
    for conn, role in [
        ("AIRFLOW_CONN_POSTSALE_WAREHOUSE_LOADER", env["WAREHOUSE_LOADER_USER"]),
        ("AIRFLOW_CONN_POSTSALE_WAREHOUSE_TRANSFORMER", env["WAREHOUSE_TRANSFORMER_USER"]),
    ]:
        assert re.fullmatch(rf"postgresql://{role}:[^@]+@postgres:5432/{env['WAREHOUSE_DB_NAME']}", conns[conn])
    # Every Airflow service (the DAG processor renders dbt's profile environment) names them.
    for name, svc in _airflow_services(services).items():
        svc_env = cf.environment(svc)
        assert svc_env["POSTSALE_LOADER_CONN_ID"] == "postsale_warehouse_loader", name
        assert svc_env["POSTSALE_TRANSFORMER_CONN_ID"] == "postsale_warehouse_transformer", name
    # The Airflow metadata lives in its own database, not in the warehouse.
    assert cf.environment(services["airflow-scheduler"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(
        "/" + env["AIRFLOW_DB_NAME"]
    )
    assert env["AIRFLOW_DB_NAME"] != env["WAREHOUSE_DB_NAME"]


# --- images and volumes --------------------------------------------------------------------


def test_images_and_builds_are_consistent(services):
    built = {n: s for n, s in services.items() if "build" in s}
    assert {(s["image"], json.dumps(s["build"], sort_keys=True)) for s in built.values()} == {
        (services["airflow-init"]["image"], json.dumps({"context": ".", "dockerfile": "Dockerfile"}, sort_keys=True))
    }, "every service built from the Dockerfile must carry the same build and image"
    assert set(_airflow_services(services)) | {"simulator"} <= set(built)
    for name, svc in services.items():
        if name not in built:
            repo, _, tag = svc["image"].rpartition(":")
            assert repo and tag and tag != "latest", f"{name}: pin the image tag ({svc['image']})"


def test_volumes_are_named_or_read_only_repo_files(compose, services):
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, svc in services.items():
        for mount in svc.get("volumes") or []:
            source, target, *mode = mount.split(":") if isinstance(mount, str) else (mount["source"], mount["target"])
            if source.startswith((".", "/")):
                assert mode == ["ro"], f"{name}: bind mount {source} must be read-only"
                assert (PROJECT_ROOT / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert declared == used, f"declared but unused: {declared - used}"
    data_dirs = {"postgres": "/var/lib/postgresql/data", "redis": "/data"}
    for name, target in data_dirs.items():
        assert any(m.split(":")[1] == target and not m.startswith(".") for m in services[name]["volumes"]), name


def test_scripts_the_services_run_exist(services):
    for name, svc in services.items():
        for word in cf.command_words(svc):
            path = PurePosixPath(word)
            if path.is_relative_to(PROJECT_IMAGE_ROOT):
                assert (PROJECT_ROOT / path.relative_to(PROJECT_IMAGE_ROOT)).is_file(), f"{name}: {word}"
