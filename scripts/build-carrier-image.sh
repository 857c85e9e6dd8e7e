#!/usr/bin/env bash
# Builds the carrier image of the agent, offline (podman import of a tar; no registry, no Dockerfile):
#   localhost/lifeguard-healthcheck:latest   dist/cf-assets/healthcheck/ at /etc/cf-assets/healthcheck and nothing
#                                            else: no shell, no libc of its own beyond the agent's directory.
#                                            Entrypoint /etc/cf-assets/healthcheck/healthcheck, so that
#                                            `podman run IMAGE -port=8080` (or --mode ... flags) runs a check.
# Kubernetes: run it as a (native) sidecar container in the app's pod, or mount it as an image volume; Docker:
# run it with --network container:APP, or `docker create` it and copy the directory out (docs/kubernetes.md).
# Needs: podman, dist/cf-assets/healthcheck (npm run build:binary). LIFEGUARD_CARRIER_IMAGE names another tag.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${LIFEGUARD_CARRIER_IMAGE:-localhost/lifeguard-healthcheck:latest}
ASSETS=dist/cf-assets/healthcheck
MOUNT=/etc/cf-assets/healthcheck
[ -x "$ASSETS/healthcheck" ] || { echo "build-carrier-image: $ASSETS missing (npm run build:binary)" >&2; exit 1; }
command -v podman >/dev/null || { echo "build-carrier-image: podman not found (apt-get install podman runc)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root$MOUNT"
cp -a "$ASSETS/." "$root$MOUNT/"
version=$("$ASSETS/../../healthcheck" --version)

# Owned by root, read-only for everyone else; numeric owners, so the tar does not depend on this machine's users.
tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
  podman import --quiet \
    --change "ENTRYPOINT [\"$MOUNT/healthcheck\"]" \
    --change "LABEL org.opencontainers.image.title=lifeguard-healthcheck org.opencontainers.image.version=$version" \
    - "$IMAGE" >/dev/null
echo "built $IMAGE ($version)"
