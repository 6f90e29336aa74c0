#!/usr/bin/env bash
# A local stand-in for the official node:20-bookworm-slim image, for machines that reach Debian's archive but no
# image registry: a Debian bookworm rootfs from mmdebstrap with this machine's own Node 20 (and npm) laid out where
# the official image has them, and this machine's certificate authorities (npm and node trust what it trusts, a
# TLS-inspecting proxy included: set for node and npm only, so apt's own trust is untouched). Cached under .cache/image-base, keyed by everything that goes into it, so a warm run
# only checks that the image is still there. Prints the image reference last.
set -euo pipefail
cd "$(dirname "$0")/../.."

node_bin=$(command -v node)
node_bin=$(readlink -f "$node_bin")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
node_version=$("$node_bin" --version)
case "$node_version" in
  v20.*) ;;
  *) echo "local-base: this machine's node is $node_version; the image needs Node 20" >&2; exit 1 ;;
esac

ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca_bundle" ] || { echo "local-base: $ca_bundle is missing (Debian's ca-certificates)" >&2; exit 1; }

# The key: this script, the node binary, the certificates and npm's version; the Debian suite is named here.
key=$(
  {
    sha256sum "$0" "$node_bin" "$ca_bundle" | cut -d' ' -f1
    cat "$npm_dir/package.json"
  } | sha256sum | cut -c1-16
)
image="localhost/faasline-node-base:${node_version#v}-bookworm-$key"
cache=.cache/image-base
tarball="$cache/$key.tar"

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
  rm -f "$cache"/*.tar "$cache"/*.partial
  # libstdc++6 is what node links against beyond libc; the official slim image has nothing more of note.
  mmdebstrap --quiet --format=tar --variant=minbase --include=libstdc++6 \
    --customize-hook="cp '$node_bin' \"\$1/usr/local/bin/node\"" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$npm_dir' \"\$1/usr/local/lib/node_modules/npm\"" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook="mkdir -p \"\$1/usr/local/etc\" && cp '$ca_bundle' \"\$1/usr/local/etc/machine-ca.pem\"" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$tarball.partial" >&2
  mv "$tarball.partial" "$tarball"
fi
podman import --quiet --change 'CMD ["node"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/etc/machine-ca.pem' --change 'ENV NPM_CONFIG_CAFILE=/usr/local/etc/machine-ca.pem' \
  "$tarball" "$image" >/dev/null
# Earlier bases (another node, other certificates) would only take disk: removed unless an image still uses them.
for stale in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/faasline-node-base); do
  [ "$stale" = "$image" ] || podman rmi "$stale" >/dev/null 2>&1 || true
done
echo "$image"
