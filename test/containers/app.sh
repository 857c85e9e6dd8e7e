#!/bin/sh
# The app of the docker-driver tests, in the busybox test image: busybox httpd answers GET /health on $PORT
# (all addresses, as a containerised app does). Misbehaviour comes from the environment:
#   UNHEALTHY_AFTER   seconds after which /health answers 404
#   CRASH_AFTER       seconds after which the app exits with CRASH_CODE (default 1)
# /www is world-writable with the sticky bit (like /tmp), so the app runs as any user (docs/kubernetes.md: uid 65532).
echo ok > /www/health
httpd -f -p "$PORT" -h /www &
server=$!
# PID 1 has no default signal dispositions: without this trap a SIGTERM would be ignored until the grace ran out.
trap 'kill $server; exit 0' TERM INT
if [ -n "$UNHEALTHY_AFTER" ]; then (sleep "$UNHEALTHY_AFTER" && rm -f /www/health) & fi
if [ -n "$CRASH_AFTER" ]; then
  # `wait` on a background sleep, so that the trap runs at once on SIGTERM rather than after the sleep.
  sleep "$CRASH_AFTER" & wait $!
  # No kill of the server first: a check landing between that and the exit would see an unhealthy app, not a crash.
  # PID 1 exiting ends every process of the container at once.
  exit "${CRASH_CODE:-1}"
fi
wait $server
