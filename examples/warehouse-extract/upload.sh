#!/bin/sh
# Uploads the example's SQL files to the `queries` bucket of a running
# `sluice up examples/warehouse-extract`, with the aws CLI and the keys
# Sluice generated at its first start.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
data="${SLUICE_DATA_DIR:-$here/.sluice}"
endpoint="${SLUICE_S3:-http://127.0.0.1:7601}"
export AWS_ACCESS_KEY_ID="$(jq -r '.[0].access_key_id' "$data/s3-credentials.json")"
export AWS_SECRET_ACCESS_KEY="$(jq -r '.[0].secret_access_key' "$data/s3-credentials.json")"
export AWS_DEFAULT_REGION=us-east-1
aws --endpoint-url "$endpoint" s3 cp --recursive --only-show-errors "$here/sql" s3://queries/sql/
echo "uploaded $(ls "$here/sql" | wc -l) SQL files to s3://queries/sql/"
