#!/usr/bin/env bash
# Runs ETSI's NGSI-LD conformance suite (a public copy, Robot Framework) against `aicity serve` as an
# outside client: the suite's own virtualenv, a key-adding proxy in front of the server, the suite's
# @context documents served on the loopback (the broker fetches them; 127.0.0.1 is on egress_allow).
#
#   scripts/ngsi_conformance/run.sh OUTDIR TP/NGSI-LD/ContextInformation/Provision [more suite paths…]
#
# Environment: SUITE (an extracted copy of the suite, default /tmp/etsi-suite), ROBOT (default
# /tmp/etsi-venv/bin/robot), WORK (server data and logs, default /tmp/ngsi-conf). The copy's context
# URLs (raw.githubusercontent.com, unreachable offline) are rewritten once to the loopback server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(realpath -m "$1"); shift
SUITE=${SUITE:-/tmp/etsi-suite}
ROBOT=${ROBOT:-/tmp/etsi-venv/bin/robot}
WORK=${WORK:-/tmp/ngsi-conf}
PY=$ROOT/.venv/bin/python
API_PORT=${API_PORT:-9092}; PROXY_PORT=${PROXY_PORT:-9090}; CTX_PORT=${CTX_PORT:-9091}
NOTIFY_PORT=${NOTIFY_PORT:-8085}; CSOURCE_PORT=${CSOURCE_PORT:-8086}; CSERVER_PORT=${CSERVER_PORT:-8087}
mkdir -p "$WORK" "$OUT"

GITHUB=https://raw.githubusercontent.com/marek-mraz/ngsi-ld-test-suite/main/resources/jsonld-contexts/
if grep -rqF "$GITHUB" "$SUITE/data" "$SUITE/resources" 2>/dev/null; then
  grep -rlF "$GITHUB" "$SUITE/data" "$SUITE/resources" "$SUITE/TP" | xargs sed -i "s#$GITHUB#http://127.0.0.1:$CTX_PORT/#g"
fi
# Some of the suite's data name contexts its authors publish elsewhere (easy-global-market.github.io's
# ngsild-api-data-models). With a mirror of that repository (EGM, a git directory), its published
# documents are served on the loopback too, under egm/, and the suite's URLs (and theirs) point there.
CONTEXTS=$WORK/contexts
rm -rf "$CONTEXTS" && mkdir -p "$CONTEXTS" && cp -r "$SUITE/resources/jsonld-contexts/." "$CONTEXTS/"
EGM=${EGM:-/work/.mirror/easy-global-market+ngsild-api-data-models/repo}
EGM_URL=https://easy-global-market.github.io/ngsild-api-data-models/
if [ -d "$EGM" ]; then
  mkdir -p "$CONTEXTS/egm"
  git --git-dir="$EGM" archive HEAD ngsildTestSuite shared-jsonld-contexts | tar -x -C "$CONTEXTS/egm"
  grep -rlF "$EGM_URL" "$SUITE/data" "$SUITE/TP" "$CONTEXTS/egm" | xargs -r sed -i "s#$EGM_URL#http://127.0.0.1:$CTX_PORT/egm/#g" || true
fi

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# The suite's pagination tests expect temporal answers paged at fewer than 20 instances of an attribute and
# not at 5 (its README: "configure your broker accordingly"): 10 here, 1000 by default.
export AICITY_DATA_DIR=$WORK/data AICITY_EGRESS_ALLOW='["127.0.0.1"]' AICITY_TWIN_CONTEXT_HOSTS='["127.0.0.1"]' \
  AICITY_TWIN_TEMPORAL_MAX_INSTANCES=10
if [ ! -s "$WORK/key" ]; then
  "$ROOT/.venv/bin/aicity" keys create --name ngsi-conformance --role operator --json \
    | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["key"])' > "$WORK/key"
fi
"$ROOT/.venv/bin/aicity" serve --port "$API_PORT" > "$WORK/serve.log" 2>&1 & PIDS+=($!)
"$PY" "$ROOT/scripts/ngsi_conformance/proxy.py" --listen 127.0.0.1:$PROXY_PORT \
  --upstream http://127.0.0.1:$API_PORT --key-file "$WORK/key" & PIDS+=($!)
"$PY" "$ROOT/scripts/ngsi_conformance/contexts.py" --listen 127.0.0.1:$CTX_PORT \
  --dir "$CONTEXTS" & PIDS+=($!)
# MQTT notifications (058_*): the suite starts its Mosquitto with docker, which is not here; the harness
# runs one on the loopback instead, on the default port and on a second one for "a non-default port"
# (the suite's default, 8085, is the notification receiver's). It takes any user, with or without a
# password: the tests check that the broker connects with the endpoint's credentials, not the ACLs.
MQTT_PORT=${MQTT_PORT:-1883}; MQTT_ALT_PORT=${MQTT_ALT_PORT:-18830}
if command -v mosquitto > /dev/null; then
  printf 'listener %s 127.0.0.1\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$MQTT_PORT" "$MQTT_ALT_PORT" \
    > "$WORK/mosquitto.conf"
  mosquitto -c "$WORK/mosquitto.conf" > "$WORK/mosquitto.log" 2>&1 & PIDS+=($!)
fi
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$API_PORT/ngsi-ld/v1/jsonldContexts/ngsi-ld-core-context.jsonld" && break
  sleep 1
done

cd "$SUITE"
"$ROBOT" --outputdir "$OUT" --console dotted \
  --variable "url:http://127.0.0.1:$PROXY_PORT/ngsi-ld/v1" \
  --variable "temporal_api_url:http://127.0.0.1:$PROXY_PORT/ngsi-ld/v1" \
  --variable "ngsild_test_suite_context:http://127.0.0.1:$CTX_PORT/ngsi-ld-test-suite-compound.jsonld" \
  --variable notification_server_host:127.0.0.1 --variable notification_server_port:$NOTIFY_PORT \
  --variable context_source_host:127.0.0.1 --variable context_source_port:$CSOURCE_PORT \
  --variable context_server_host:127.0.0.1 --variable context_server_port:$CSERVER_PORT \
  --variable mqtt_broker_host:127.0.0.1 --variable mqtt_broker_non_default_port:$MQTT_ALT_PORT \
  "$@" > "$OUT/console.txt" 2>&1 || true
"$PY" - "$OUT/output.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
stats = ET.parse(sys.argv[1]).getroot().find("statistics/total/stat")
p, f, s = int(stats.get("pass")), int(stats.get("fail")), int(stats.get("skip"))
print(f"pass {p} fail {f} skip {s} rate {p / max(1, p + f + s):.3f}")
PYEOF
