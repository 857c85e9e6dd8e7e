#!/usr/bin/env bash
# Builds the carrier image of the agent, offline (podman or docker import of a tar; no registry, no Dockerfile):
#   localhost/lifeguard-healthcheck:latest   dist/cf-assets/healthcheck/ at /etc/cf-assets/healthcheck and nothing
#                                            else: no shell, no libc of its own beyond the agent's directory.
#                                            Entrypoint /etc/cf-assets/healthcheck/healthcheck, so that
#                                            `podman run IMAGE -port=8080` (or --mode ... flags) runs a check;
#                                            so does `docker run`.
# Kubernetes: run it as a (native) sidecar container in the app's pod, or mount it as an image volume; Docker:
# run it with --network container:APP, or `docker create` it and copy the directory out (docs/kubernetes.md).
# Usage: build-carrier-image.sh [podman|docker]   (default podman; docker imports into the engine DOCKER_HOST names)
# Needs: the engine's CLI, dist/cf-assets/healthcheck (npm run build:binary). LIFEGUARD_CARRIER_IMAGE names
# another tag.
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINE=${1:-podman}
case "$ENGINE" in
  podman | docker) ;;
  *) echo "build-carrier-image: unknown engine '$ENGINE' (podman or docker)" >&2; exit 2 ;;
esac

IMAGE=${LIFEGUARD_CARRIER_IMAGE:-localhost/lifeguard-healthcheck:latest}
ASSETS=dist/cf-assets/healthcheck
MOUNT=/etc/cf-assets/healthcheck
[ -x "$ASSETS/healthcheck" ] || { echo "build-carrier-image: $ASSETS missing (npm run build:binary)" >&2; exit 1; }
command -v "$ENGINE" >/dev/null || { echo "build-carrier-image: $ENGINE not found (apt-get install podman runc, or docker.io)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root$MOUNT"
cp -a "$ASSETS/." "$root$MOUNT/"
version=$("$ASSETS/../../healthcheck" --version)

# docker import has no --quiet (and prints no progress); podman's would print its copy progress to stderr.
quiet=()
[ "$ENGINE" = docker ] || quiet=(--quiet)

# Owned by root, read-only for everyone else; numeric owners, so the tar does not depend on this machine's users.
tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
  "$ENGINE" import "${quiet[@]}" \
    --change "ENTRYPOINT [\"$MOUNT/healthcheck\"]" \
    --change "LABEL org.opencontainers.image.title=lifeguard-healthcheck org.opencontainers.image.version=$version" \
    - "$IMAGE" >/dev/null
echo "built $IMAGE ($version, $ENGINE)"
