#!/usr/bin/env bash
# Negotiate sign-ins per second: the portal vs Apache httpd + mod_auth_gssapi, side by side.
#
#   e2e/bench/negotiate_bench.sh            # the whole comparison, prints a table (2-4 min)
#
# What it does (loopback only; nothing outside a temp dir is written, nothing is left running):
#   1. installs what is missing (apache2, libapache2-mod-auth-gssapi, python3-gssapi) via apt-get;
#   2. checks the lab AD (e2e/lab/lab.sh up if it is not running) and kinits alice and carol
#      into private ccaches (forwardable TGTs; alice ~1.4 KB tokens, carol ~2.1 KB with 80 groups);
#   3. starts, on plain HTTP on 127.0.0.1 (so TLS does not blur the Kerberos comparison):
#        - the portal (target/release/amt-portal) with the lab keytab, PORTAL_RCACHE=file2:...,
#          its SQLite database in the temp dir (the same disk as a real install);
#        - a private Apache (mpm_event, e2e/bench/apache-gssapi.conf.in): AuthType GSSAPI on
#          /signin, a copy of the same keytab, GssapiCredStore rcache:file2:..., GssapiUseSessions
#          Off (every request is a full accept, like the portal's GET /signin), access log on;
#        - diagnostic only: a second portal whose SQLite file is on tmpfs (/dev/shm), to show what
#          the database's fsyncs cost (BENCH_DIAG=0 skips it);
#   4. for each repetition and each concurrency C, for each server in alternating order:
#      pre-generates N fresh SPNEGO tokens (negotiate_load.py tokens; not timed), then fires them
#      over C keep-alive connections (negotiate_load.py fire) and records sign-ins/s, p50/p99,
#      errors, server CPU per sign-in (utime+stime of the server's processes), client CPU;
#   5. the same with forwarded-TGT (delegation) tokens at one concurrency;
#   6. prints the table (medians over the repetitions) and tears everything down.
#
# Knobs: BENCH_TOKENS (1500 per run), BENCH_CONC ("2 4 8 16"), BENCH_REPS (3),
#        BENCH_DELEG_TOKENS (300; 0 skips), BENCH_DELEG_CONC (8), BENCH_DIAG (1),
#        BENCH_MAX_SECONDS (420: later runs are skipped once exceeded), BENCH_KEEP=1 keeps the
#        temp dir (logs, results.jsonl), BENCH_PERF=FILE records the portal with
#        `perf record -F 999 -g` into FILE for the whole run (read it with `perf report -i FILE`).
# The lab is the one in $LAB_DIR (default <repo>/.lab), as for e2e/lab/lab.sh.
# A result is the server's speed only if errors = 0 and the client is not the bottleneck
# (client CPU per sign-in is printed; the machine has 2 cores shared by client and server).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH="$ROOT/e2e/bench"
PY=/usr/bin/python3   # Debian's python: python3-gssapi lives there
TOKENS=${BENCH_TOKENS:-1500}
CONCS=${BENCH_CONC:-"2 4 8 16"}
REPS=${BENCH_REPS:-3}
DELEG_TOKENS=${BENCH_DELEG_TOKENS:-300}
DELEG_CONC=${BENCH_DELEG_CONC:-8}
DIAG=${BENCH_DIAG:-1}
MAX_SECONDS=${BENCH_MAX_SECONDS:-420}
START=$SECONDS

say() { printf '[bench] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# --- 1. packages -------------------------------------------------------------------------------
missing=()
for p in apache2 libapache2-mod-auth-gssapi python3-gssapi; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing missing Debian packages: ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
else
  say "packages present: apache2 libapache2-mod-auth-gssapi python3-gssapi"
fi
[[ -x "$ROOT/target/release/amt-portal" ]] || die "no portal binary: run ./dev build first"

# --- 2. lab ------------------------------------------------------------------------------------
"$ROOT/e2e/lab/lab.sh" status >/dev/null 2>&1 || { say "lab AD not running: e2e/lab/lab.sh up"; "$ROOT/e2e/lab/lab.sh" up >&2; }
set -a; . "${LAB_DIR:-$ROOT/.lab}/lab.env"; set +a
export KRB5_CONFIG

TMP=$(mktemp -d /tmp/negotiate-bench.XXXXXX)
DIAGDIR=""
PORTAL_PID="" ; DIAG_PID=""
cleanup() {
  set +e
  [[ -n "$PORTAL_PID" ]] && kill "$PORTAL_PID" 2>/dev/null
  [[ -n "$DIAG_PID" ]] && kill "$DIAG_PID" 2>/dev/null
  if [[ -s "$TMP/apache/httpd.pid" ]]; then
    apache2 -f "$TMP/apache/httpd.conf" -k stop 2>/dev/null || kill "$(cat "$TMP/apache/httpd.pid")" 2>/dev/null
  fi
  for pid in $PORTAL_PID $DIAG_PID; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  [[ -n "${PERF_PID:-}" ]] && wait "$PERF_PID" 2>/dev/null
  [[ -n "$DIAGDIR" ]] && rm -rf "$DIAGDIR"
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for u in alice carol; do
  printf '%s\n' "$LAB_PASSWORD" | kinit -f -c "FILE:$TMP/cc_$u" "$u@$LAB_REALM" >/dev/null || die "kinit $u failed"
done

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- 3. servers --------------------------------------------------------------------------------
start_portal() { # dir port -> pid
  local dir=$1 port=$2
  mkdir -p "$dir"
  env PORTAL_KEYTAB="$LAB_PORTAL_KEYTAB" PORTAL_KRB5_CONFIG="$KRB5_CONFIG" \
    PORTAL_LISTEN="127.0.0.1:$port" PORTAL_PUBLIC_URL="http://portal.example.test:$port" \
    PORTAL_DATABASE="$dir/portal.sqlite" PORTAL_RCACHE="file2:$dir/rcache" \
    PORTAL_LDAP_URL="$LAB_LDAP_URL" PORTAL_LDAP_HOST="$LAB_DC_HOST" \
    LEPTOS_SITE_ROOT="$ROOT/target/site" RUST_LOG=server=info \
    "$ROOT/target/release/amt-portal" >"$dir/portal.log" 2>&1 &
  local pid=$!
  for _ in $(seq 200); do
    grep -q 'listening on' "$dir/portal.log" 2>/dev/null && { echo "$pid"; return; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/portal.log" >&2; die "portal did not start"
}

P_PORT=$(free_port); PORTAL_PID=$(start_portal "$TMP/portal" "$P_PORT")
say "portal on http://127.0.0.1:$P_PORT (pid $PORTAL_PID, SQLite in $TMP/portal)"
PERF_PID=""
if [[ -n "${BENCH_PERF:-}" ]]; then
  perf record -q -F 999 -g -p "$PORTAL_PID" -o "$BENCH_PERF" >/dev/null 2>&1 &
  PERF_PID=$!
  say "perf records the portal into $BENCH_PERF"
fi
if [[ "$DIAG" == 1 ]]; then
  DIAGDIR=$(mktemp -d /dev/shm/negotiate-bench.XXXXXX)
  D_PORT=$(free_port); DIAG_PID=$(start_portal "$DIAGDIR" "$D_PORT")
  say "diagnostic portal on http://127.0.0.1:$D_PORT (pid $DIAG_PID, SQLite and rcache on tmpfs)"
fi

A="$TMP/apache"; mkdir -p "$A/htdocs" "$A/deleg"; printf 'ok' >"$A/htdocs/signin"
cp "$LAB_PORTAL_KEYTAB" "$A/portal.keytab"; chmod 600 "$A/portal.keytab"
A_PORT=$(free_port)
sed -e "s|@DIR@|$A|g; s|@PORT@|$A_PORT|; s|@USER@|www-data|; s|@GROUP@|www-data|; s|@LOGLEVEL@|warn|" \
    -e "s|@KEYTAB@|$A/portal.keytab|; s|@RCACHE@|file2:$A/rcache|" "$BENCH/apache-gssapi.conf.in" >"$A/httpd.conf"
chown -R www-data:www-data "$A"   # workers run as www-data: keytab copy, rcache, deleg dir
chmod 755 "$TMP"
apache2 -f "$A/httpd.conf" -t >/dev/null 2>&1 || { apache2 -f "$A/httpd.conf" -t; die "bad Apache config"; }
apache2 -f "$A/httpd.conf" -k start || die "Apache did not start (see $A/error.log)"
for _ in $(seq 100); do [[ -s "$A/httpd.pid" ]] && break; sleep 0.1; done
APACHE_PID=$(cat "$A/httpd.pid")
say "apache on http://127.0.0.1:$A_PORT (pid $APACHE_PID, $(apache2 -v | head -1 | cut -d: -f2 | xargs), mod_auth_gssapi $(dpkg-query -W -f='${Version}' libapache2-mod-auth-gssapi))"

# --- 4./5. runs --------------------------------------------------------------------------------
RESULTS="$TMP/results.jsonl"; : >"$RESULTS"
run_one() { # server variant conc count ccaches delegate
  local server=$1 variant=$2 conc=$3 count=$4 ccaches=$5 deleg=$6 port pids expect tokfile=$TMP/tokens
  case $server in
    portal) port=$P_PORT; pids=$PORTAL_PID; expect=303 ;;
    portal-tmpfs-db) port=$D_PORT; pids=$DIAG_PID; expect=303 ;;
    apache) port=$A_PORT; pids=$APACHE_PID; expect=200 ;;
  esac
  local gen
  gen=$("$PY" "$BENCH/negotiate_load.py" tokens --ccache "$ccaches" --count "$count" $deleg --out "$tokfile")
  "$PY" "$BENCH/negotiate_load.py" fire --url "http://127.0.0.1:$port/signin" --host-header "portal.example.test:$port" \
      --tokens "$tokfile" --concurrency "$conc" --expect "$expect" --pids "$pids" \
      --label "$server|$variant" >"$TMP/one.json"
  "$PY" - "$TMP/one.json" "$gen" >>"$RESULTS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); g = json.loads(sys.argv[2])
r["token_bytes"] = [g["token_bytes_min"], g["token_bytes_max"]]; r["token_gen_per_s"] = g["tokens_per_s"]
print(json.dumps(r))
EOF
  "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("[bench] %-22s C=%-3s %7.1f sign-ins/s  p50 %6.2f ms  p99 %7.2f ms  errors %d  server CPU %.3f ms/sign-in" % (r["label"], r["concurrency"], r["signins_per_s"], r["p50_ms"], r["p99_ms"], r["errors"], r["server_cpu_ms_per_signin"]))' "$TMP/one.json" >&2
}

servers=(portal apache)
[[ "$DIAG" == 1 ]] && servers+=(portal-tmpfs-db)
say "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
say "runs: $REPS reps x C in {$CONCS} x ${servers[*]}, $TOKENS fresh tokens per run (alice/carol alternating)"
for rep in $(seq "$REPS"); do
  for c in $CONCS; do
    order=("${servers[@]}")
    (( rep % 2 == 0 )) && order=(apache portal ${servers[2]:-})   # alternate who goes first
    for s in "${order[@]}"; do
      (( SECONDS - START > MAX_SECONDS )) && { say "time budget ${MAX_SECONDS}s spent: skipping the rest"; break 3; }
      run_one "$s" plain "$c" "$TOKENS" "$TMP/cc_alice,$TMP/cc_carol" ""
    done
  done
done
if (( DELEG_TOKENS > 0 )); then
  say "delegation: $DELEG_TOKENS tokens with a forwarded TGT (alice; the KDC issues a forwarded TGT per token while generating)"
  for rep in 1 2; do
    for s in portal apache; do
      (( SECONDS - START > MAX_SECONDS )) && break 2
      run_one "$s" delegated "$DELEG_CONC" "$DELEG_TOKENS" "$TMP/cc_alice" --delegate
    done
  done
fi
say "Apache stored $(ls "$A/deleg" 2>/dev/null | wc -l) delegated ccache file(s); portal log lines with delegated=true: $(sed 's/\x1b\[[0-9;]*m//g' "$TMP/portal/portal.log" | grep -ac 'delegated=true' || true)"

# --- 6. table ----------------------------------------------------------------------------------
"$PY" - "$RESULTS" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
groups = {}
for r in rows:
    server, variant = r["label"].split("|")
    groups.setdefault((variant, r["concurrency"], server), []).append(r)
order = {"portal": 0, "apache": 1, "portal-tmpfs-db": 2}
print()
print("| tokens | C | server | sign-ins/s (median; min-max) | p50 ms | p99 ms | errors | server CPU ms/sign-in | client CPU ms/sign-in | runs |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (variant, c, server) in sorted(groups, key=lambda k: (k[0] != "plain", k[1], order.get(k[2], 9))):
    g = groups[(variant, c, server)]
    med = lambda k: statistics.median(x[k] for x in g)
    rates = [x["signins_per_s"] for x in g]
    tb = "%d-%d B" % (min(x["token_bytes"][0] for x in g), max(x["token_bytes"][1] for x in g))
    name = server + (" (diagnostic: SQLite on tmpfs)" if server == "portal-tmpfs-db" else "")
    print(f"| {variant}, {tb} | {c} | {name} | {med('signins_per_s'):.0f} ({min(rates):.0f}-{max(rates):.0f}) | "
          f"{med('p50_ms'):.2f} | {med('p99_ms'):.2f} | {sum(x['errors'] for x in g)} | "
          f"{med('server_cpu_ms_per_signin'):.3f} | {med('client_cpu_ms_per_signin'):.3f} | {len(g)} |")
bad = [r for r in rows if r["errors"]]
if bad:
    print("\nERRORS in %d run(s); samples: %s" % (len(bad), bad[0].get("error_samples")))
EOF
say "done in $((SECONDS - START)) s; load now $(cut -d' ' -f1-3 /proc/loadavg)"
