#!/usr/bin/env python3
"""Times DeleteObjects (and a few ListObjectsV2 calls) against a running Hayloft gateway.

Usage: scripts/bench-delete-objects.py [ENDPOINT] [KEYS]
Puts KEYS small objects (16 at a time) into a new bucket, deletes them with DeleteObjects in
batches of 1,000 and prints the keys deleted per second; then lists the empty bucket 200 times.
Credentials come from HAYLOFT_ACCESS_KEY and HAYLOFT_SECRET_KEY (the development defaults
otherwise). Needs boto3.
"""
import concurrent.futures
import os
import sys
import time

import boto3
from botocore.config import Config

endpoint = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9000"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=os.environ.get("HAYLOFT_ACCESS_KEY", "hayloft"),
                  aws_secret_access_key=os.environ.get("HAYLOFT_SECRET_KEY", "hayloft-secret"),
                  config=Config(max_pool_connections=16))
bucket = "delete-bench-%d" % int(time.time() * 1000)
s3.create_bucket(Bucket=bucket)
keys = ["k%06d" % i for i in range(count)]
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"x" * 100), keys))

start = time.monotonic()
for i in range(0, count, 1000):
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]],
                                                      "Quiet": True})
    if answer.get("Errors"):
        sys.exit("DeleteObjects refused keys: %s" % answer["Errors"][:3])
seconds = time.monotonic() - start

start = time.monotonic()
for _ in range(200):
    s3.list_objects_v2(Bucket=bucket, MaxKeys=10)
lists = 200 / (time.monotonic() - start)
s3.delete_bucket(Bucket=bucket)
print("DeleteObjects: %d keys in %.2f s, %.0f keys/s; ListObjectsV2: %.0f/s" % (count, seconds, count / seconds,
                                                                               lists))
