#!/bin/bash
# make install / uninstall honour DESTDIR and PREFIX.
. tests/e2e/lib.sh
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
run make -s --no-print-directory BUILD="$BUILD" DESTDIR="$d" PREFIX=/opt/kmw install
expect_eq "make install exits 0" "$RC" 0
for f in /opt/kmw/bin/kmemctl /opt/kmw/bin/kmemtop /opt/kmw/sbin/kmemwatchd \
         /opt/kmw/share/man/man1/kmemctl.1 /opt/kmw/share/man/man1/kmemtop.1 \
         /opt/kmw/share/man/man8/kmemwatchd.8 /opt/kmw/share/man/man5/kmemwatchd.conf.5 \
         /opt/kmw/lib/systemd/system/kmemwatchd.service /opt/kmw/lib/systemd/system/kmemwatchd.socket \
         /opt/kmw/lib/sysusers.d/kmemwatch.conf /etc/kmemwatch/kmemwatchd.conf; do
    if [ -e "$d$f" ]; then ok "installed $f"; else not_ok "missing $f"; fi
done
expect_match "the unit runs the installed daemon" "$(cat "$d/opt/kmw/lib/systemd/system/kmemwatchd.service")" \
    '^ExecStart=/opt/kmw/sbin/kmemwatchd$'
expect_match "kmemtop(1) lists the keys from the key table" "$(cat "$d/opt/kmw/share/man/man1/kmemtop.1")" '^Quit$'
expect_eq "installed kmemctl runs" "$("$d/opt/kmw/bin/kmemctl" --version)" "$("$KMEMCTL" --version)"
echo "# edited" >>"$d/etc/kmemwatch/kmemwatchd.conf"
run make -s --no-print-directory BUILD="$BUILD" DESTDIR="$d" PREFIX=/opt/kmw install
expect_match "reinstall keeps a local config" "$(tail -1 "$d/etc/kmemwatch/kmemwatchd.conf")" '^# edited$'
run make -s --no-print-directory BUILD="$BUILD" DESTDIR="$d" PREFIX=/opt/kmw uninstall
expect_eq "make uninstall exits 0" "$RC" 0
left=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
expect_eq "uninstall removes all but the local config" "$left" "./etc/kmemwatch/kmemwatchd.conf "
finish
