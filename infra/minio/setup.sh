#!/bin/sh
# camflow's MinIO setup, idempotent (safe to run on every start):
#   1. creates the source, output and model buckets;
#   2. subscribes the webhook target `camflow` (ingest's POST /v1/events/s3, configured on the
#      MinIO server through MINIO_NOTIFY_WEBHOOK_*_camflow) to object puts in the source bucket,
#      under EVENT_PREFIX only (bulk data sets uploaded elsewhere do not fire events).
# Runs in the minio/mc image: docker-compose.yml (service minio-init) and the Kubernetes Job in
# infra/minio/setup-job.yaml.
set -eu

MINIO_URL="${MINIO_URL:-http://minio:9000}"
SOURCE_BUCKET="${SOURCE_BUCKET:-data}"
OUTPUT_BUCKET="${OUTPUT_BUCKET:-camflow-outputs}"
MODEL_BUCKET="${MODEL_BUCKET:-camflow-models}"
EVENT_PREFIX="${EVENT_PREFIX-incoming/}"
WEBHOOK_ARN="${WEBHOOK_ARN:-arn:minio:sqs::camflow:webhook}"

tries=0
until mc alias set local "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "setup: MinIO at $MINIO_URL not reachable (or wrong credentials)" >&2
    exit 1
  fi
  echo "setup: waiting for MinIO at $MINIO_URL ..."
  sleep 2
done

mc mb --ignore-existing "local/$SOURCE_BUCKET" "local/$OUTPUT_BUCKET" "local/$MODEL_BUCKET"

existing="$(mc event ls "local/$SOURCE_BUCKET" "$WEBHOOK_ARN" 2>/dev/null || true)"
case "$existing" in
  *"$WEBHOOK_ARN"*)
    echo "setup: $SOURCE_BUCKET already notifies $WEBHOOK_ARN (to change the prefix: mc event rm, then rerun)"
    ;;
  *)
    if [ -n "$EVENT_PREFIX" ]; then
      mc event add "local/$SOURCE_BUCKET" "$WEBHOOK_ARN" --event put --prefix "$EVENT_PREFIX"
    else
      mc event add "local/$SOURCE_BUCKET" "$WEBHOOK_ARN" --event put
    fi
    ;;
esac
mc event ls "local/$SOURCE_BUCKET"
echo "setup: done"
