#!/bin/bash
# Prometheus: /metrics over HTTP (libmicrohttpd in the daemon's loop), the
# exposition checked by promtool, and a real Prometheus server scraping two
# daemons on loopback, queried through its HTTP API; the documented scrape
# config and alert rules (docs/PROMETHEUS.md) checked and loaded.
. tests/e2e/lib.sh
t_setup
for tool in curl promtool prometheus; do
    command -v "$tool" >/dev/null || { not_ok "$tool is installed (make deps)"; finish; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done

cp -r "$FIX/idle" "$T_TMP/proc1"
cp -r "$FIX/growth-trace/012" "$T_TMP/proc2"   # another machine
start_daemon a --proc-root "$T_TMP/proc1" --interval 0.5 --metrics "127.0.0.1:$P1" ||
    { not_ok "daemon a starts with --metrics" "$(cat "$DLOG")"; finish; }
SOCK_A=$SOCK
start_daemon b --proc-root "$T_TMP/proc2" --interval 0.5 --metrics "127.0.0.1:$P2" ||
    { not_ok "daemon b starts with --metrics" "$(cat "$DLOG")"; finish; }
ok "two daemons serve /metrics on 127.0.0.1:$P1 and :$P2"
URL=http://127.0.0.1:$P1

# ---- HTTP ----
run curl -s -D "$T_TMP/headers" -o "$T_TMP/body" "$URL/metrics"
expect_eq "GET /metrics: 200" "$(head -1 "$T_TMP/headers" | tr -d '\r')" "HTTP/1.1 200 OK"
expect_match "Content-Type: text/plain; version=0.0.4" "$(tr -d '\r' <"$T_TMP/headers")" \
    '^Content-Type: text/plain; version=0\.0\.4'
expect_match "the body is the exposition" "$(cat "$T_TMP/body")" '^kmemwatch_slab_bytes\{cache="dentry",state="total"\} [0-9]+$'
for path in / /metric /metrics/ /metrics.json /api/v1/query; do
    expect_eq "GET $path: 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1$path")" 404
done
expect_eq "POST /metrics: 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "$URL/metrics")" 405
expect_eq "HEAD /metrics: 200" "$(curl -s -o /dev/null -I -w '%{http_code}' "$URL/metrics")" 200
expect_eq "GET /metrics?x=1 (query ignored): 200" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics?x=1")" 200
# many scrapers at once, and one that connects and says nothing: the daemon keeps sampling
exec 7<>/dev/tcp/127.0.0.1/"$P1"
for i in $(seq 20); do curl -s -o "$T_TMP/par$i" "$URL/metrics" & done
wait_for "scrapes done" 10 bash -c "! pgrep -f 'curl -s -o $T_TMP/par' >/dev/null"
expect_eq "20 concurrent scrapes: every body complete" \
    "$(for i in $(seq 20); do grep -c '^# TYPE kmemwatch_ring_bytes gauge$' "$T_TMP/par$i"; done | sort -u)" 1
exec 7>&-
run $KWCLIENT "$SOCK_A" hello
s1=$(json_get "$OUT" 'd["sources"]["meminfo"]["samples"]')
sleep 1.1
run $KWCLIENT "$SOCK_A" hello
s2=$(json_get "$OUT" 'd["sources"]["meminfo"]["samples"]')
expect_eq "sampling goes on while HTTP clients come and go" "$((s2 - s1 >= 2))" 1

# ---- the exposition: promtool, and the same text on every path ----
run promtool check metrics <"$T_TMP/body"
expect_eq "promtool check metrics: the daemon's HTTP output is clean" "$RC:$OUT$ERR" "0:"
run bash -c "curl -s http://127.0.0.1:$P2/metrics | promtool check metrics"
expect_eq "promtool check metrics: the second daemon (another machine's snapshot)" "$RC:$OUT" "0:"
run bash -c "'$KMEMCTL' metrics --direct --proc-root '$FIX/idle' | promtool check metrics"
expect_eq "promtool check metrics: kmemctl metrics --direct" "$RC:$OUT" "0:"
if [ -r /proc/slabinfo ] && [ -r /proc/vmallocinfo ]; then
    run bash -c "'$KMEMCTL' metrics --direct | promtool check metrics"
    expect_eq "promtool check metrics: kmemctl metrics --direct on this kernel" "$RC:$OUT" "0:"
else
    ok "promtool on this kernel # SKIP /proc/slabinfo needs root"
fi
fams() { grep '^# TYPE ' | awk '{print $3, $4}' | sort; }
run $KWCLIENT "$SOCK_A" --metrics
expect_eq "socket metrics and HTTP: the same families" "$(grep -v '^# EOF' <<<"$OUT" | fams)" "$(fams <"$T_TMP/body")"
steady() { grep -Ev '^kmemwatch_(uptime_seconds|clients|samples_total|samples_late_total|samples_delayed_total|read_duration_seconds|sample_errors_total)|^# EOF'; }
expect_eq "socket metrics and HTTP: the same samples" "$(grep -v '^#' <<<"$OUT" | steady)" "$(grep -v '^#' "$T_TMP/body" | steady)"
for fam in kmemwatch_growth_bytes_per_hour kmemwatch_growth_steadiness kmemwatch_leak_suspect kmemwatch_leak_suspects; do
    expect_match "family $fam with HELP" "$(cat "$T_TMP/body")" "^# HELP $fam "
done
expect_match "no suspects on a still fixture" "$(cat "$T_TMP/body")" '^kmemwatch_leak_suspects 0$'
run "$KMEMCTL" metrics --direct --proc-root "$FIX/idle"
expect_no_match "kmemctl metrics --direct: no growth families (no history)" "$OUT" 'kmemwatch_(growth|leak)'
# every family has HELP and TYPE, counters end in _total
expect_eq "every family: HELP and TYPE" \
    "$(grep -v '^#' "$T_TMP/body" | sed 's/[{ ].*//' | sort -u | while read -r m; do grep -q "^# HELP $m " "$T_TMP/body" && grep -q "^# TYPE $m " "$T_TMP/body" || echo "$m"; done)" ""
expect_eq "counters end in _total" "$(grep '^# TYPE .* counter$' "$T_TMP/body" | awk '$3 !~ /_total$/')" ""
# a source that fails: its families go, source_up says so, the scrape still works
chmod 000 "$T_TMP/proc1/buddyinfo" 2>/dev/null
printf 'garbage\n' >"$T_TMP/proc1/buddyinfo"
sleep 1.2
run curl -s -w '\n%{http_code}' "$URL/metrics"
expect_eq "a failing source: the scrape still answers 200" "$(tail -1 <<<"$OUT")" 200
expect_match "... with kmemwatch_source_up 0 for it" "$OUT" '^kmemwatch_source_up\{source="buddyinfo"\} 0$'
expect_no_match "... and without its families" "$OUT" '^kmemwatch_buddy_'
expect_match "... the others still there" "$OUT" '^kmemwatch_slab_bytes\{'
run bash -c "curl -s $URL/metrics | promtool check metrics"
expect_eq "... and promtool still finds nothing" "$RC:$OUT" "0:"
cp "$FIX/idle/buddyinfo" "$T_TMP/proc1/buddyinfo"

# ---- the port is bound before the privilege drop: a port below 1024 works ----
cp -r "$FIX/idle" "$T_TMP/proc3"
if [ "$(id -u)" = 0 ]; then
    id kmwtest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin kmwtest
    LOW=$(python3 -c '
import socket, random
for p in random.sample(range(900, 1000), 100):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
')
    if start_daemon low --proc-root "$T_TMP/proc3" --user kmwtest --metrics "127.0.0.1:$LOW"; then
        expect_eq "--user kmwtest --metrics 127.0.0.1:$LOW: runs as kmwtest" \
            "$(awk '/^Uid:/{print $2, $3, $4}' "/proc/$DPID/status")" "$(id -u kmwtest) $(id -u kmwtest) $(id -u kmwtest)"
        expect_eq "... and serves /metrics on the privileged port" \
            "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LOW/metrics")" 200
        stop_daemon "$DPID"
    else
        not_ok "daemon with --user kmwtest and a port below 1024 starts" "$(cat "$DLOG")"
    fi
else
    ok "privileged port # SKIP needs root"
fi
# a port in use, and an address that is not one: the daemon refuses to start, saying why
run "$KMEMWATCHD" --socket "$T_TMP/x.sock" --state-dir "$T_TMP/x.state" --user root --config /dev/null \
    --proc-root "$T_TMP/proc3" --metrics "127.0.0.1:$P1"
expect_match "--metrics on a port in use: exit 1, naming it" "$RC $ERR" "^1 .*metrics: 127\.0\.0\.1:$P1: Address already in use"
run "$KMEMWATCHD" --socket "$T_TMP/x.sock" --state-dir "$T_TMP/x.state" --user root --config /dev/null \
    --proc-root "$T_TMP/proc3" --metrics "localhost:9101"
expect_match "--metrics with a name, not an address: exit 1" "$RC $ERR" "^1 .*metrics: 'localhost:9101': .*numeric ADDR:PORT"

# ---- the documented configuration ----
python3 - "$T_TMP" docs/PROMETHEUS.md <<'PY'
import re, sys
out, doc = sys.argv[1], open(sys.argv[2]).read()
for b in re.findall(r"```yaml\n(.*?)```", doc, re.S):
    name = b.split("\n", 1)[0].lstrip("# ").strip()
    if name in ("prometheus.yml", "kmemwatch.rules.yml"):
        open(out + "/doc-" + name, "w").write(b)
PY
cp "$T_TMP/doc-kmemwatch.rules.yml" "$T_TMP/kmemwatch.rules.yml"
run promtool check rules "$T_TMP/kmemwatch.rules.yml"
expect_eq "promtool check rules: the documented alert rules" "$RC $(grep -c 'SUCCESS: 3 rules found' <<<"$OUT")" "0 1"
cp "$T_TMP/doc-prometheus.yml" "$T_TMP/prometheus.yml"
run promtool check config "$T_TMP/prometheus.yml"
expect_eq "promtool check config: the documented scrape config" "$RC" 0

# ---- a real Prometheus scraping both ----
PP=$(free_port)
while [ "$PP" = "$P1" ] || [ "$PP" = "$P2" ]; do PP=$(free_port); done
cat >"$T_TMP/fleet.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $T_TMP/kmemwatch.rules.yml
scrape_configs:
  - job_name: kmemwatch
    static_configs:
      - targets: ["127.0.0.1:$P1", "127.0.0.1:$P2"]
EOF
prometheus --config.file="$T_TMP/fleet.yml" --storage.tsdb.path="$T_TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PP" --log.level=warn >"$T_TMP/prometheus.log" 2>&1 &
DAEMON_PIDS+=("$!")
PURL=http://127.0.0.1:$PP
if wait_for "prometheus ready" 30 curl -sf "$PURL/-/ready"; then
    ok "prometheus runs on 127.0.0.1:$PP"
else
    not_ok "prometheus runs" "$(tail -5 "$T_TMP/prometheus.log")"
    finish
fi
query() { curl -s -G --data-urlencode "query=$1" "$PURL/api/v1/query"; }
instances() { json_get "$(query "$1")" 'sorted(r["metric"].get("instance", "") for r in d["data"]["result"])'; }
both=$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "127.0.0.1:$P1" "127.0.0.1:$P2")
for i in $(seq 30); do
    [ "$(instances 'count by (instance) (kmemwatch_slab_bytes)')" = "$both" ] && break
    sleep 1
done
sleep 5   # a few more scrapes
expect_eq "PromQL count by (instance) (kmemwatch_slab_bytes): both daemons" \
    "$(instances 'count by (instance) (kmemwatch_slab_bytes)')" "$both"
expect_eq "both targets up" "$(json_get "$(query 'up{job="kmemwatch"} == 1')" 'sorted(r["metric"]["instance"] for r in d["data"]["result"])')" "$both"
expect_eq "the fixture's value arrives unchanged" \
    "$(json_get "$(query "kmemwatch_slab_objects{cache=\"dentry\",state=\"active\",instance=\"127.0.0.1:$P1\"}")" 'd["data"]["result"][0]["value"][1]')" \
    "$(awk '$1=="dentry"{print $2}' "$FIX/idle/slabinfo")"
expect_eq "several scrapes stored: samples_total rises" \
    "$(json_get "$(query 'min(increase(kmemwatch_samples_total{source="meminfo"}[20s]))')" 'float(d["data"]["result"][0]["value"][1]) > 5')" True
expect_eq "kmemwatch_leak_suspects from both" "$(instances 'kmemwatch_leak_suspects == 0')" "$both"
run curl -s "$PURL/api/v1/rules"
expect_eq "the documented rules are loaded and healthy" \
    "$(json_get "$OUT" 'sorted((r["name"], r["health"]) for g in d["data"]["groups"] for r in g["rules"])')" \
    "[('KernelMemoryFastGrowth', 'ok'), ('KernelMemoryLeakSuspect', 'ok'), ('KmemwatchSourceDown', 'ok')]"
run curl -s "$PURL/api/v1/targets"
expect_eq "no scrape errors" "$(json_get "$OUT" 'sorted(t["lastError"] for t in d["data"]["activeTargets"])')" "['', '']"
finish
