#!/usr/bin/env bash
# Exercises a running Hayloft server with the S3 clients installed here: the AWS CLI, s3cmd
# and boto3, each skipped when missing. For each: make a bucket, upload a small file and a
# 20 MiB one (a multipart upload), list, download both and compare bytes, remove, drop the bucket.
#
#   HAYLOFT_ENDPOINT     the S3 endpoint (default http://127.0.0.1:9000)
#   HAYLOFT_ACCESS_KEY   the key pair (default: the development pair hayloft / hayloft-secret)
#   HAYLOFT_SECRET_KEY
#   SMOKE_TIMEOUT        seconds each client command may take (default 120)
#
# Exits 0 when every client that is installed passed (or none is installed), 1 otherwise.
set -uo pipefail

endpoint="${HAYLOFT_ENDPOINT:-http://127.0.0.1:9000}"
access_key="${HAYLOFT_ACCESS_KEY:-hayloft}"
secret_key="${HAYLOFT_SECRET_KEY:-hayloft-secret}"
limit="${SMOKE_TIMEOUT:-120}"
hostport="${endpoint#*://}"
hostport="${hostport%%/*}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
head -c 1234 /dev/urandom > "$work/small.bin"
head -c $((20 * 1024 * 1024)) /dev/urandom > "$work/big.bin"

passed=()
failed=()
skipped=()

# Runs a command with the time limit; on failure says which and returns 1.
run() {
  if ! timeout "$limit" "$@" > "$work/last.log" 2>&1; then
    echo "    FAILED: $*" >&2
    sed 's/^/      /' "$work/last.log" | tail -n 20 >&2
    return 1
  fi
}

same() {
  if ! cmp -s "$1" "$2"; then
    echo "    FAILED: $2 differs from $1" >&2
    return 1
  fi
}

awscli_smoke() {
  local b="smoke-awscli-$$" s3=(aws --endpoint-url "$endpoint" s3)
  export AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  run "${s3[@]}" mb "s3://$b" &&
    run "${s3[@]}" cp "$work/small.bin" "s3://$b/small.bin" &&
    run "${s3[@]}" cp "$work/big.bin" "s3://$b/dir/big.bin" &&
    run "${s3[@]}" ls "s3://$b/" && grep -q "small.bin" "$work/last.log" &&
    run "${s3[@]}" ls --recursive "s3://$b/" && grep -q "dir/big.bin" "$work/last.log" &&
    run "${s3[@]}" cp "s3://$b/small.bin" "$work/awscli-small.bin" &&
    run "${s3[@]}" cp "s3://$b/dir/big.bin" "$work/awscli-big.bin" &&
    same "$work/small.bin" "$work/awscli-small.bin" &&
    same "$work/big.bin" "$work/awscli-big.bin" &&
    run "${s3[@]}" rm "s3://$b/small.bin" &&
    run "${s3[@]}" rm "s3://$b/dir/big.bin" &&
    run "${s3[@]}" rb "s3://$b"
}

s3cmd_smoke() {
  local b="smoke-s3cmd-$$" cfg="$work/s3cfg"
  cat > "$cfg" <<CFG
[default]
access_key = $access_key
secret_key = $secret_key
host_base = $hostport
host_bucket = $hostport
bucket_location = us-east-1
use_https = False
signature_v2 = False
CFG
  local c=(s3cmd -c "$cfg" --no-progress)
  run "${c[@]}" mb "s3://$b" &&
    run "${c[@]}" put "$work/small.bin" "s3://$b/small.bin" &&
    run "${c[@]}" put --multipart-chunk-size-mb=5 "$work/big.bin" "s3://$b/dir/big.bin" &&
    run "${c[@]}" ls "s3://$b/" && grep -q "small.bin" "$work/last.log" &&
    run "${c[@]}" ls --recursive "s3://$b/" && grep -q "dir/big.bin" "$work/last.log" &&
    run "${c[@]}" get --force "s3://$b/small.bin" "$work/s3cmd-small.bin" &&
    run "${c[@]}" get --force "s3://$b/dir/big.bin" "$work/s3cmd-big.bin" &&
    same "$work/small.bin" "$work/s3cmd-small.bin" &&
    same "$work/big.bin" "$work/s3cmd-big.bin" &&
    run "${c[@]}" del "s3://$b/small.bin" "s3://$b/dir/big.bin" &&
    run "${c[@]}" rb "s3://$b"
}

boto3_smoke() {
  run python3 - "$endpoint" "$access_key" "$secret_key" "$work" "smoke-boto3-$$" <<'PY'
import filecmp, sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

endpoint, access, secret, work, bucket = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=access, aws_secret_access_key=secret,
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                                connect_timeout=10, read_timeout=60))
multipart = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
s3.create_bucket(Bucket=bucket)
s3.upload_file(f"{work}/small.bin", bucket, "small.bin")
s3.upload_file(f"{work}/big.bin", bucket, "dir/big.bin", Config=multipart)
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
assert sorted(keys) == ["dir/big.bin", "small.bin"], keys
s3.download_file(bucket, "small.bin", f"{work}/boto3-small.bin")
s3.download_file(bucket, "dir/big.bin", f"{work}/boto3-big.bin", Config=multipart)
assert filecmp.cmp(f"{work}/small.bin", f"{work}/boto3-small.bin", shallow=False), "small.bin differs"
assert filecmp.cmp(f"{work}/big.bin", f"{work}/boto3-big.bin", shallow=False), "big.bin differs"
s3.delete_object(Bucket=bucket, Key="small.bin")
s3.delete_object(Bucket=bucket, Key="dir/big.bin")
s3.delete_bucket(Bucket=bucket)
PY
}

have_boto3() {
  command -v python3 > /dev/null && python3 -c 'import boto3' > /dev/null 2>&1
}

echo "S3 clients against $endpoint"
for client in awscli s3cmd boto3; do
  case "$client" in
    awscli) present() { command -v aws > /dev/null; } ;;
    s3cmd) present() { command -v s3cmd > /dev/null; } ;;
    boto3) present() { have_boto3; } ;;
  esac
  if ! present; then
    echo "  $client: not installed, skipped"
    skipped+=("$client")
    continue
  fi
  echo "  $client: ..."
  if "${client}_smoke"; then
    echo "  $client: passed"
    passed+=("$client")
  else
    echo "  $client: FAILED"
    failed+=("$client")
  fi
done

echo "passed: ${passed[*]:-none}; failed: ${failed[*]:-none}; skipped: ${skipped[*]:-none}"
[ "${#failed[@]}" -eq 0 ]
