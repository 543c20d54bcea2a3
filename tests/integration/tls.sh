#!/usr/bin/env bash
# TLS verification is always on: gt.http refuses a self-signed certificate and one issued
# for another host, and accepts a server whose certificate a given CA bundle (cainfo)
# vouches for. The server is `openssl s_server` on 127.0.0.1, bounded by timeout. Also:
# no source file turns certificate checks off.
set -u
GTENGINE=${GTENGINE:-./gtengine}
n=0
check() { n=$((n+1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; echo "# $out"; fi; }
out=""
hits=$(grep -rnE "SSL_VERIFY(PEER|HOST)[^;]*,[[:space:]]*0L?[[:space:]]*\)" engine lua 2>/dev/null || true)
check "no code sets CURLOPT_SSL_VERIFYPEER/VERIFYHOST to 0" '[ -z "$hits" ]'
if ! command -v openssl >/dev/null; then echo "ok $((n+1)) - # SKIP openssl not installed"; echo "1..$((n+1))"; exit 0; fi

tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
cert() { # cert NAME SAN
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -days 2 \
    -subj "/CN=$1" -addext "subjectAltName=$2" 2>/dev/null
}
serve() { # serve NAME -> prints the port once the server accepts connections
  local port
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    timeout 30 openssl s_server -accept "127.0.0.1:$port" -cert "$tmp/$1.pem" -key "$tmp/$1.key" \
      -www -quiet >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do
      if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "$port"; return 0; fi
      sleep 0.1
    done
  done
  return 1
}
get() { # get URL [CAFILE] -> "ok STATUS" or "err MESSAGE"
  "$GTENGINE" -e '
    local url, ca = arg[1], arg[2]
    local r, err = require("gt.http").get(url, { timeout = 5, retries = 0, cainfo = ca ~= "" and ca or nil })
    if r then print("ok " .. r.status) else print("err " .. err) end' "$1" "${2:-}" 2>&1
}

cert good "DNS:localhost,IP:127.0.0.1"
cert other "DNS:wrong.example"
p1=$(serve good) || { echo "not ok $((n+1)) - openssl s_server did not start"; echo "1..$((n+1))"; exit 0; }
p2=$(serve other)

out=$(get "https://127.0.0.1:$p1/")
check "a self-signed certificate is refused" '[[ "$out" == err*"certificate"* ]]'
out=$(get "https://127.0.0.1:$p1/" "$tmp/good.pem")
check "the same server is accepted with its CA bundle (cainfo)" '[[ "$out" == "ok 200" ]]'
out=$(get "https://localhost:$p1/" "$tmp/good.pem")
check "by host name too" '[[ "$out" == "ok 200" ]]'
out=$(get "https://127.0.0.1:$p2/" "$tmp/other.pem")
check "a certificate for another host is refused even when its CA is trusted" '[[ "$out" == err* ]]'
echo "1..$n"
