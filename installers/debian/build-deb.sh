#!/bin/sh
# Builds the Debian package (make deb): build/trustlens_<version>-1_<arch>.deb
#
#   installers/debian/build-deb.sh BUILD_DIR
#
# The files come from `make install PREFIX=/usr DESTDIR=<stage>` (the
# binary, the man page, the unpacked extension under /usr/share/trustlens/
# extension), plus the Debian documentation files. The maintainer scripts
# register the host system-wide for every Linux browser of the host's own
# table (postinst: `trustlens-host install --system`) and remove exactly
# that again (prerm on remove: `trustlens-host uninstall --system`), so
# the package and `trustlens-host install` can never disagree on a path.
# Dependencies are computed by dpkg-shlibdeps from the binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac

version=$(sed -n 's/^#define TL_VERSION "\(.*\)"$/\1/p' "$root/host/version.h")
arch=$(dpkg --print-architecture)
debver=$version-1
stage=$build/deb/trustlens
rm -rf "$build/deb"
mkdir -p "$stage"

# The files, through the project's own install target.
make -s -C "$root" install PREFIX=/usr DESTDIR="$stage" BUILD="$build" >/dev/null

# Debian wants stripped binaries and compressed manual pages.
strip --remove-section=.comment --remove-section=.note "$stage/usr/bin/trustlens-host"
gzip -9n "$stage/usr/share/man/man1/trustlens-host.1"
# The native-host manifest templates are for packagers, not for the browser.
rm -rf "$stage/usr/share/trustlens/extension/native-host"
find "$stage/usr/share/trustlens" -type d -exec chmod 0755 {} +
find "$stage/usr/share/trustlens" -type f -exec chmod 0644 {} +

doc=$stage/usr/share/doc/trustlens
mkdir -p "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
sed "s/@VERSION@/$debver/; s/@DATE@/$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")/" \
	"$here/changelog.in" | gzip -9n >"$doc/changelog.Debian.gz"
chmod 0644 "$doc/changelog.Debian.gz"

# Shared-library dependencies of the binary.
tmp=$build/deb/shlibs
mkdir -p "$tmp/debian"
printf 'Source: trustlens\n\nPackage: trustlens\nArchitecture: any\n' >"$tmp/debian/control"
depends=$(cd "$tmp" && dpkg-shlibdeps -O "$stage/usr/bin/trustlens-host" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
	-e "s/@SIZE@/$size/" "$here/control.in" >"$stage/DEBIAN/control"
for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$stage/DEBIAN/$s"
done
(cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

out=$build/trustlens_${debver}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
if command -v lintian >/dev/null 2>&1; then
	# Informational: the accepted tags are listed in lintian-suppress.txt.
	lintian --allow-root --suppress-tags-from-file "$here/lintian-suppress.txt" "$out" >&2 || true
fi
