# syntax=docker/dockerfile:1
# One image for every postsale service: the Airflow components, the Celery workers and the
# simulator. The project and its locked dependencies are installed with uv from uv.lock.
#
#   docker compose build            (or: docker build -t postsale:local .)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: resolve nothing, install exactly uv.lock -------------------------------------
FROM ${PYTHON_IMAGE} AS build
# Same uv as `make setup` pins from PyPI; the lockfile format is uv's.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/postsale/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /opt/postsale
# Dependencies first, in their own layer: source edits do not reinstall Airflow and dbt.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.11
COPY . .
# The project itself, editable (uv's default): warehouse.paths finds dbt_project/ and dags/ next to
# its package directory, so the source tree stays where the virtualenv points.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --python /usr/local/bin/python3.11
# The DAGs render their dbt task groups (cosmos) from the compiled manifest at parse time, so
# the image carries it. `dbt parse` reads the profile but never connects.
RUN cd dbt_project && DBT_PROFILES_DIR=. DBT_SEND_ANONYMOUS_USAGE_STATS=False /opt/postsale/.venv/bin/dbt parse --quiet \
 && test -s target/manifest.json

# --- runtime: no uv, no build cache, not root --------------------------------------------
FROM ${PYTHON_IMAGE}
# uid 50000 and gid 0 like the official Airflow image, so volumes and OpenShift-style
# arbitrary uids work the same way.
ARG POSTSALE_UID=50000
RUN useradd --uid "${POSTSALE_UID}" --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash postsale \
 && mkdir -p /opt/airflow/logs /opt/airflow/auth /var/lib/postsale/world \
 && chown -R "${POSTSALE_UID}:0" /opt/airflow /var/lib/postsale \
 && chmod -R g=u /opt/airflow /var/lib/postsale
# Owned by the runtime user: dbt writes target/ and logs/ inside dbt_project/, and the GX
# project and Data Docs go under .local/ (POSTSALE_LOCAL_DIR's default).
COPY --from=build --chown=${POSTSALE_UID}:0 /opt/postsale /opt/postsale

ENV PATH=/opt/postsale/.venv/bin:${PATH} \
    VIRTUAL_ENV=/opt/postsale/.venv \
    PYTHONUNBUFFERED=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/postsale/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    DO_NOT_TRACK=1

USER ${POSTSALE_UID}
WORKDIR /opt/postsale
EXPOSE 8080 8793 8974 8765
CMD ["airflow", "version"]
