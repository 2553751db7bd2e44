#!/usr/bin/env bash
# Checks the deployment files without Docker or a cluster (.ci/run calls it): one line per check,
# exit 1 when any check finds a real error. A check whose tool is missing says what it did instead.
# Needs the project's dev dependencies (npm ci). As root it installs nginx when missing.
set -uo pipefail
cd "$(dirname "$0")/.."

failures=0
fail() { failures=$((failures + 1)); }
work=$(mktemp -d)
nginx_prefix=""
stub_pid=""
cleanup() {
  if [ -n "$nginx_prefix" ] && [ -f "$nginx_prefix/nginx.pid" ]; then nginx -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -s stop 2>/dev/null; fi
  if [ -n "$stub_pid" ]; then kill "$stub_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- Dockerfile: hadolint when installed, else the structural lint.
if command -v hadolint >/dev/null 2>&1; then
  if out=$(hadolint deploy/Dockerfile 2>&1); then echo "dockerfile: ok (hadolint)"; else echo "dockerfile: FAILED (hadolint)"; echo "$out" | sed 's/^/  /'; fail; fi
fi
node deploy/checks/dockerfile.mjs || fail

# --- docker-compose.yml: `docker compose config` when there is a compose binary; the schema and
# consistency check always.
if docker compose version >/dev/null 2>&1; then
  mkdir -p "$work/compose" && cp -r deploy/. "$work/compose/" && : > "$work/compose/.env"
  if out=$(cd "$work/compose" && POSTGRES_PASSWORD=check docker compose config -q 2>&1); then echo "compose: ok (docker compose config)"; else echo "compose: FAILED (docker compose config)"; echo "$out" | sed 's/^/  /'; fail; fi
fi
node deploy/checks/compose.mjs || fail

# --- nginx site: `nginx -t` with a throw-away certificate, then served on loopback ports in front
# of a stub bot: HTTP redirects, HTTPS proxies with X-Forwarded-*, sends HSTS, refuses /metrics.
site=deploy/nginx/gitlab-mattermost-bot.conf
if ! { command -v nginx && command -v curl; } >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get install -y -qq --no-install-recommends nginx curl || { apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx curl; }; } >/dev/null 2>&1
fi
if ! { command -v nginx && command -v curl; } >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "nginx: FAILED (nginx or curl is not installed and could not be)"; fail; else echo "nginx: skipped (nginx or curl not installed; as root this script installs them)"; fi
else
  nginx_prefix="$work/nginx"
  mkdir -p "$nginx_prefix/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=gitlab-bot.example.com" \
    -keyout "$nginx_prefix/certs/privkey.pem" -out "$nginx_prefix/certs/fullchain.pem" >/dev/null 2>&1
  http_port=$((20000 + RANDOM % 20000)); https_port=$((http_port + 1)); bot_port=$((http_port + 2))
  sed -e "s#/etc/ssl/gitlab-mattermost-bot/#$nginx_prefix/certs/#" \
      -e "s#listen 80;#listen 127.0.0.1:$http_port;#" -e "s#listen 443 ssl;#listen 127.0.0.1:$https_port ssl;#" \
      -e "/listen \[::\]/d" -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$bot_port;#" "$site" > "$nginx_prefix/site.conf"
  cat > "$nginx_prefix/nginx.conf" <<EOF
pid $nginx_prefix/nginx.pid;
error_log $nginx_prefix/error.log;
events {}
http {
  access_log off;
  include $nginx_prefix/site.conf;
}
EOF
  body=$(grep -oE 'client_max_body_size [0-9]+m' "$site" | grep -oE '[0-9]+')
  webhook_max=$(grep -oE '^WEBHOOK_MAX_BYTES=[0-9]+' .env.example | cut -d= -f2)
  if ! out=$(nginx -t -q -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log" 2>&1); then
    echo "nginx: FAILED (nginx -t)"; echo "$out" | sed 's/^/  /'; fail
  elif [ "$((body * 1048576))" != "$webhook_max" ]; then
    echo "nginx: FAILED (client_max_body_size ${body}m is not WEBHOOK_MAX_BYTES=$webhook_max of .env.example)"; fail
  else
    # The stub answers with the forwarded headers it received.
    node -e "require('node:http').createServer((q,s)=>s.end(JSON.stringify({proto:q.headers['x-forwarded-proto'],host:q.headers['x-forwarded-host'],for:q.headers['x-forwarded-for']}))).listen($bot_port,'127.0.0.1')" &
    stub_pid=$!
    nginx -p "$nginx_prefix" -c "$nginx_prefix/nginx.conf" -e "$nginx_prefix/error.log"
    problems=()
    for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$bot_port/" && break; sleep 0.1; done
    redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: gitlab-bot.example.com' "http://127.0.0.1:$http_port/webhooks/gitlab?x=1")
    [ "$redirect" = "301 https://gitlab-bot.example.com/webhooks/gitlab?x=1" ] || problems+=("http://.../webhooks/gitlab answered '$redirect', not a 301 to https")
    curl_https=(curl -s -k --resolve "gitlab-bot.example.com:$https_port:127.0.0.1")
    proxied=$("${curl_https[@]}" -D "$work/headers" "https://gitlab-bot.example.com:$https_port/healthz")
    [ "$proxied" = '{"proto":"https","host":"gitlab-bot.example.com","for":"127.0.0.1"}' ] || problems+=("/healthz reached the bot with forwarded headers $proxied")
    grep -qi '^strict-transport-security: max-age=' "$work/headers" || problems+=("no Strict-Transport-Security header")
    for path in /metrics /metrics/ //metrics /%6Detrics; do
      status=$("${curl_https[@]}" --path-as-is -o /dev/null -w '%{http_code}' "https://gitlab-bot.example.com:$https_port$path")
      [ "$status" = 403 ] || problems+=("$path answered $status, not 403")
    done
    # OpenSSL's client refuses old protocols by default; lower its floor so only the site decides.
    for version in tls1 tls1_1; do
      if openssl s_client -connect "127.0.0.1:$https_port" -servername gitlab-bot.example.com "-$version" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1; then problems+=("accepts ${version/_/.}"); fi
    done
    if [ ${#problems[@]} -eq 0 ]; then
      echo "nginx: ok (nginx -t with a throw-away certificate; served: HTTP redirects to HTTPS, X-Forwarded-* and HSTS sent, /metrics refused, TLS < 1.2 refused; body limit = WEBHOOK_MAX_BYTES)"
    else
      echo "nginx: FAILED (served on loopback)"; printf '  %s\n' "${problems[@]}"; fail
    fi
  fi
fi

# --- systemd unit: the directives this deployment relies on, then `systemd-analyze verify`, whose
# complaint that the ExecStart program is missing (no node at that path here) alone is tolerated.
unit=deploy/gitlab-mattermost-bot.service
missing=()
for directive in 'User=gitlab-mm' 'Group=gitlab-mm' 'EnvironmentFile=' 'ExecStart=/usr/bin/node --max-semi-space-size=2 dist/src/main.js' 'Restart=on-failure' \
  'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'ReadWritePaths=/var/lib/gitlab-mattermost-bot'; do
  grep -q "^$directive" "$unit" || missing+=("$directive")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "systemd: FAILED (missing: ${missing[*]})"; fail
elif command -v systemd-analyze >/dev/null 2>&1; then
  exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
  out=$(systemd-analyze verify "$unit" 2>&1 | grep -v -F "Command $exec_path is not executable")
  # systemd's own exposure score (0 safest, 10 unprotected): a hardening directive lost shows here.
  exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  if [ -n "$out" ]; then
    echo "systemd: FAILED (systemd-analyze verify)"; echo "$out" | sed 's/^/  /'; fail
  elif [ -z "$exposure" ]; then
    echo "systemd: ok (systemd-analyze verify; hardening directives present; this systemd cannot score exposure offline)"
  elif awk "BEGIN { exit !($exposure > 2.0) }"; then
    echo "systemd: FAILED (exposure $exposure by systemd-analyze security, above 2.0: hardening was lost)"; fail
  else
    echo "systemd: ok (systemd-analyze verify; exposure $exposure by systemd-analyze security; hardening directives present)"
  fi
else
  echo "systemd: ok (directives only: systemd-analyze is not installed)"
fi

# --- Kubernetes: schemas, unknown fields and wiring (node), and a real kustomize build when
# kubectl is installed.
node deploy/checks/kubernetes.mjs || fail
if command -v kubectl >/dev/null 2>&1; then
  if out=$(kubectl kustomize deploy/kubernetes 2>&1); then echo "kustomize: ok (kubectl kustomize built $(grep -c '^kind:' <<<"$out") objects)"; else echo "kustomize: FAILED (kubectl kustomize)"; echo "$out" | sed 's/^/  /'; fail; fi
else
  echo "kustomize: skipped (no kubectl; the kubernetes check assembled the listed files)"
fi

# --- Grafana dashboard against the metrics the bot exposes.
node deploy/checks/grafana.mjs || fail

if [ "$failures" -gt 0 ]; then echo "deploy checks: $failures failed"; exit 1; fi
echo "deploy checks: all passed"
