#!/bin/sh
# Writes the dev overlay's secrets (untracked, next to this script): secrets.env for
# camflow-secrets and keda.env for camflow-keda, with random tokens and MinIO keys. Keeps
# existing files (delete them to rotate). Prints the admin token for the CLI.
set -eu
cd "$(dirname "$0")"
rand() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
if [ ! -f secrets.env ]; then
  admin="$(rand 32)"
  webhook="$(rand 32)"
  umask 077
  cat > secrets.env <<ENV
REDIS_URL=redis://redis:6379
S3_ACCESS_KEY_ID=camflow-$(rand 6)
S3_SECRET_ACCESS_KEY=$(rand 24)
CAMFLOW_API_TOKENS={"$admin": {"scopes": ["runs:write", "results:read", "events:write", "admin"], "buckets": ["*"]}, "$webhook": {"scopes": ["events:write"], "buckets": ["data"]}}
CAMFLOW_WEBHOOK_TOKEN=$webhook
CAMFLOW_ADMIN_TOKEN=$admin
ENV
  echo "make-secrets: wrote $(pwd)/secrets.env"
fi
if [ ! -f keda.env ]; then
  umask 077
  cat > keda.env <<ENV
address=redis.camflow.svc.cluster.local:6379
username=
password=
tls=disable
ENV
  echo "make-secrets: wrote $(pwd)/keda.env"
fi
echo "CAMFLOW_TOKEN=$(sed -n 's/^CAMFLOW_ADMIN_TOKEN=//p' secrets.env)"
