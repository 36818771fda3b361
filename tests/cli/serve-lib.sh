# Helpers for the code service's tests (0600-serve.t, 0610-audit.t, 0620-replay.t), sourced
# after lib.sh.  Servers listen on 127.0.0.1 port 0 only; every one started is killed on exit.
#
#   start_serve DB [ARGS...]   start serve; sets SERVE_PID, URL (empty if it did not start)
#   stop_serve                 SIGTERM and wait; sets SERVE_RC
#   http METHOD PATH [BODY] [HEADER]   sets $code (HTTP status) and $body
#   scan_body PERSON PAYLOAD LAT LON TS   a POST /v1/scan body
SERVE_PIDS=""
trap 'for p in $SERVE_PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

start_serve() {
	local db=$1 i
	shift
	: >"$TMP/serve.out"
	"$VENUESCAN" serve --db "$db" --listen 127.0.0.1:0 "$@" >"$TMP/serve.out" 2>"$TMP/serve.err" &
	SERVE_PID=$!
	SERVE_PIDS="$SERVE_PIDS $SERVE_PID"
	URL=""
	for i in $(seq 400); do
		grep -q '^listening on ' "$TMP/serve.out" && break
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	if grep -q '^listening on 127\.0\.0\.1:[0-9]*$' "$TMP/serve.out"; then
		URL=http://$(sed -n 's/^listening on //p' "$TMP/serve.out")
	fi
}

stop_serve() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
	SERVE_RC=$?
}

http() { # METHOD PATH [BODY] [HEADER]
	local args=(-s -o "$TMP/http.body" -w '%{http_code}' -X "$1" --max-time 20)
	[ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	[ -n "${4:-}" ] && args+=(-H "$4")
	code=$(curl "${args[@]}" "$URL$2")
	body=$(cat "$TMP/http.body")
}

scan_body() {
	printf '{"person_id":"%s","payload":"%s","lat":%s,"lon":%s,"ts":"%s"}' "$1" "$2" "$3" "$4" "$5"
}
