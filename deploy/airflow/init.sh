#!/usr/bin/env bash
# One-shot start-up job of the compose deployment (service airflow-init): refuse placeholder
# secrets, migrate the Airflow metadata database, and give the admin the password from .env.
# Every other Airflow service starts only after this exits 0.
set -euo pipefail

for var in AIRFLOW__CORE__FERNET_KEY AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY AIRFLOW_ADMIN_PASSWORD; do
  if [[ "${!var:-}" == change-me* || -z "${!var:-}" ]]; then
    echo "airflow-init: $var is empty or still the .env.example placeholder; set it in .env" >&2
    exit 1
  fi
done

# Other secrets reach this job inside URLs (the metadata database's and the broker's, which
# carry AIRFLOW_DB_PASSWORD and REDIS_PASSWORD): refuse a placeholder anywhere in the environment.
for var in $(compgen -e); do
  if [[ "${!var}" == *change-me* ]]; then
    echo "airflow-init: $var holds a .env.example change-me placeholder; replace every change-me value in .env" >&2
    exit 1
  fi
done

# A malformed key would only surface later, when the first Connection or Variable is encrypted.
python -c 'import os; from cryptography.fernet import Fernet; Fernet(os.environ["AIRFLOW__CORE__FERNET_KEY"])' \
  || { echo "airflow-init: AIRFLOW_FERNET_KEY is not a Fernet key (see .env.example)" >&2; exit 1; }

airflow db migrate

# SimpleAuthManager keeps {"user": "password"} in this file and generates (and logs) a password
# only for users missing from it, so writing it first makes the .env password the login.
python - <<'PY'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
path.parent.mkdir(parents=True, exist_ok=True)
tmp = path.with_suffix(".tmp")
tmp.write_text(json.dumps({os.environ["AIRFLOW_ADMIN_USER"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}) + "\n")
tmp.chmod(0o600)
tmp.replace(path)
PY
echo "airflow-init: metadata database migrated; admin user ${AIRFLOW_ADMIN_USER} ready"
