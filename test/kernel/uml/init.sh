#!/bin/sh
# PID 1 of the user-mode-Linux guest that runs the ipvs kernel suite (see launcher.ts).
# The guest's root is the host's / over hostfs, mounted read-only; scratch space is a tmpfs
# on /run; the one writable host folder (UML_OUT) is mounted on /run/out. The guest has no
# network card. This script must never exit: it always powers the guest off with reboot(2).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/run TMPDIR=/run

# reboot(2) directly (syscall 169 on x86-64, LINUX_REBOOT_CMD_POWER_OFF); never sysrq.
poweroff() {
  exec /usr/bin/python3 -c 'import ctypes;l=ctypes.CDLL(None);l.sync();l.syscall(169,0xfee1dead,672274793,0x4321FEDC,0)'
}
uptime_s() { cut -d' ' -f1 /proc/uptime; }

mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t tmpfs -o mode=755 tmpfs /run \
  || { echo "UML_INIT_FAIL mounts"; poweroff; }
mkdir -p /run/out /run/bin /run/mods/lib /run/netns
mount -t hostfs -o "$UML_OUT" hostfs /run/out || { echo "UML_INIT_FAIL hostfs $UML_OUT"; poweroff; }

# Modules: the UML kernel's live in /usr/lib/uml/modules; kernel autoload goes through a
# wrapper that points modprobe at a module tree on the tmpfs.
ln -s /usr/lib/uml/modules /run/mods/lib/modules
printf '#!/bin/sh\nexec /usr/sbin/modprobe -d /run/mods "$@"\n' > /run/bin/modprobe
chmod +x /run/bin/modprobe
echo /run/bin/modprobe > /proc/sys/kernel/modprobe

# This kernel has no nf_tables ip/inet family: iptables means iptables-legacy here.
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -s "/usr/sbin/${t%%-*}-legacy${t#${t%%-*}}" "/run/bin/$t"
done
export PATH=/run/bin:$PATH

ip link set lo up
for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_sed ip_vs_nq ip_vs_mh nf_conntrack dummy veth ipv6; do
  /run/bin/modprobe "$m" 2>/dev/null || echo "UML_INIT_WARN modprobe $m"
done

echo "UML_READY uptime=$(uptime_s)"
sh "$UML_TEST" > /run/out/test.log 2>&1
rc=$?
cat /run/out/test.log
echo "$rc" > /run/out/rc
echo "UML_DONE rc=$rc uptime=$(uptime_s)"
poweroff
