#!/usr/bin/env bash
# Builds the image the docker-driver tests run, offline: no registry, only what this machine has.
#   localhost/lifeguard-test:latest  busybox-static (+ applet links), the test app (test/containers/app.sh), and
#                                    what the single executable dist/healthcheck needs to run (its dynamic loader
#                                    and libraries, from ldd), so that it serves both as app and as sidecar image.
# Usage: build-test-images.sh [podman|docker]   (default podman; docker imports into the engine DOCKER_HOST names)
# Needs: the engine's CLI, busybox-static, dist/healthcheck (npm run build:binary). Run as root (the tests' engines
# are root's).
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${1:-podman}
case "$ENGINE" in
  podman | docker) ;;
  *) echo "build-test-images: unknown engine '$ENGINE' (podman or docker)" >&2; exit 2 ;;
esac

IMAGE=${LIFEGUARD_TEST_IMAGE:-localhost/lifeguard-test:latest}
BUSYBOX=$(command -v busybox || true)
[ -x "$BUSYBOX" ] || { echo "build-test-images: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
[ -x dist/healthcheck ] || { echo "build-test-images: dist/healthcheck missing (npm run build:binary)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,www}
# The app writes /www/health as whatever user it runs as (docs/kubernetes.md's pods run as uid 65532).
chmod 1777 "$root/tmp" "$root/www"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
cp test/containers/app.sh "$root/bin/lifeguard-test-app"
echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"

# Every library the executable links, at the path the loader looks for it (the loader itself included).
for lib in $(ldd dist/healthcheck | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

# PATH: an imported tar has none, and `exec` (podman exec, kube play's commands) would need absolute paths.
tar -C "$root" -c . | "$ENGINE" import --change 'ENV PATH=/bin' --change 'CMD ["/bin/lifeguard-test-app"]' - "$IMAGE" >/dev/null
echo "built $IMAGE ($ENGINE)"
