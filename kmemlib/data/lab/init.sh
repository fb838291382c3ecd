#!/bin/sh
# kmemlib lab: PID 1 of the guest (built by kmemlib/lab/initramfs.py). Dumps the allocator state to
# /dev/ttyS1, loads the modules listed in /kmemlib-modules one by one, powers off.
# Dump format: "F <path>" starts a file, "L<text>" is a line, "P<text>" a last line without newline, "E" ends it.
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say() { echo "kmemlib-lab: $*" > /dev/ttyS0; }
dumpfile() {
	{
		printf 'F %s\n' "$2"
		while IFS= read -r l; do printf 'L%s\n' "$l"; done
		[ -z "$l" ] || printf 'P%s\n' "$l"
		printf 'E\n'
	} 2>/dev/null < "$1"
}
# procfs sysctl files answer only a read at offset 0: copy them with one read() (cat) first
dumpcat() { cat "$1" > /tmp/cat.txt 2>/dev/null && dumpfile /tmp/cat.txt "$2"; }
say "stage dump"
OUT=/tmp/dump.txt
{
	# no process may start between these reads (a fork allocates pages): the shell's own read
	for f in pagetypeinfo buddyinfo zoneinfo slabinfo vmstat meminfo cmdline version; do
		dumpfile /proc/$f proc/$f
	done
	for f in /proc/sys/vm/*; do [ -f "$f" ] && dumpcat "$f" "${f#/}"; done
	for f in present possible online; do
		dumpcat /sys/devices/system/cpu/$f sys/devices/system/cpu/$f
	done
	ls -l /sys/kernel/slab > /tmp/slab-ls.txt
	dumpfile /tmp/slab-ls.txt lab/slab-ls.txt
	for d in /sys/kernel/slab/*; do
		[ -L "$d" ] && continue
		for f in "$d"/*; do
			case "${f##*/}" in validate|shrink) continue;; esac
			dumpfile "$f" "${f#/}"
		done
	done
	dmesg > /tmp/dmesg.txt
	dumpfile /tmp/dmesg.txt lab/dmesg-boot.txt
} > $OUT
if [ -f /kmemlib-modules ]; then
	while read -r MOD ARGS; do
		say "stage insmod $MOD"
		dmesg -c > /dev/null
		insmod /modules/$MOD.ko $ARGS > /tmp/insmod.txt 2>&1
		echo "rc=$?" >> /tmp/insmod.txt
		dmesg > /tmp/dmesg-module.txt
		{
			dumpfile /tmp/insmod.txt lab/insmod/$MOD.txt
			dumpfile /tmp/dmesg-module.txt lab/dmesg/$MOD.txt
		} >> $OUT
	done < /kmemlib-modules
fi
say "stage send $(wc -c < $OUT) bytes"
{
	echo KMEMLIB-DUMP-BEGIN
	gzip -c $OUT | base64
	echo KMEMLIB-DUMP-END
} > /dev/ttyS1
say "stage poweroff"
poweroff -f
