#!/bin/sh
# Measures `hayloft server` against nginx on the same machine, in the same minutes, with the same
# load generator (`hayloft bench`), so that a figure can be read against the machine it was
# measured on. nginx stores each PUT as a file with its WebDAV module (one copy, no fsync) and
# serves GETs from the page cache; Hayloft keeps three fsynced replicas and its names in Raft.
#
#   scripts/bench-against-nginx.sh [ROUNDS]
#
# Each round starts a fresh `hayloft server` (data in a temporary directory), warms it with two
# runs of 40,000 writes, then alternates nginx and Hayloft twice. Every run is
# `hayloft bench -n $N -s $SIZE -c $C --reads $READS` into a bucket of its own (new keys, as
# for nginx a directory of its own: nginx created files about three times slower where as
# many had just been deleted); set N, SIZE, C and READS in the environment to change them
# (defaults: 30000, 4KiB, 16, 1). Prints one line per pair of runs and, at the end, the mean of
# Hayloft's write and read rates over nginx's.
#
# Needs nginx with its WebDAV module (Debian: apt-get install nginx-light) and ports 9000 and
# 9100 free on 127.0.0.1.
set -eu

rounds="${1:-3}"
n="${N:-30000}"
size="${SIZE:-4KiB}"
c="${C:-16}"
reads="${READS:-1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx" ] || { echo "nginx not found; on Debian: apt-get install nginx-light" >&2; exit 2; }

work="$(mktemp -d /tmp/hayloft-vs-nginx.XXXXXX)"
mkdir -p "$work/www" "$work/body" "$work/data"
chmod a+rx "$work" # nginx's workers may run as another user
chmod -R a+rwx "$work/www" "$work/body"
cat > "$work/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  client_max_body_size 1g;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:9100;
    root $work/www;
    location ~ ^/[^/]+\$ { return 200; }   # the bench's HEAD of its bucket
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
    }
  }
}
EOF

server=""
cleanup() {
  set +e
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
  fi
  if [ -f "$work/nginx.pid" ]; then
    kill "$(cat "$work/nginx.pid")" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$root/hayloft" --version >/dev/null # builds the command first when needed
"$nginx" -c "$work/nginx.conf"

bench() {
  if ! out="$("$root/hayloft" bench -n "$n" -s "$size" -c "$c" --reads "$reads" "$@" 2>&1)"; then
    echo "$out" >&2
    exit 1
  fi
  echo "$out"
}
rate() { # the ops/s of the phase named $1 in a bench's output
  sed -n "s/^$1 .*: \([0-9]*\) ops\/s.*/\1/p"
}

results="$work/results"
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/data"
  "$root/hayloft" server --dir "$work/data" --port 9000 >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 120); do
    curl -sf http://127.0.0.1:9000/ready >/dev/null 2>&1 && break
    sleep 1
  done
  curl -sf http://127.0.0.1:9000/ready >/dev/null || { cat "$work/server.log" >&2; exit 1; }
  "$root/hayloft" bench -n 40000 -s "$size" -c "$c" --reads 1 >/dev/null 2>&1
  "$root/hayloft" bench -n 40000 -s "$size" -c "$c" --reads 1 >/dev/null 2>&1
  for run in 1 2; do
    ngx="$(bench --endpoint http://127.0.0.1:9100 --bucket "nginx-$round-$run")"
    hl="$(bench --endpoint http://127.0.0.1:9000 --bucket "hayloft-$round-$run")"
    nw="$(echo "$ngx" | rate write)"; nr="$(echo "$ngx" | rate read)"
    hw="$(echo "$hl" | rate write)"; hr="$(echo "$hl" | rate read)"
    echo "round $round: write nginx $nw/s hayloft $hw/s; read nginx $nr/s hayloft $hr/s"
    echo "$nw $hw $nr $hr" >>"$results"
  done
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
done
awk '{ w += $2 / $1; r += $4 / $3; k++ }
     END { printf "hayloft over nginx, mean of %d pairs: writes %.3f, reads %.3f\n", k, w / k, r / k }' "$results"
