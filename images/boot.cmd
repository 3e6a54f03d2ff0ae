# boot.cmd: the device's U-Boot script, compiled to /boot/boot.scr with
#   mkimage -A x86 -O linux -T script -C none -n plugpull -d boot.cmd boot.scr
#
# U-Boot's distro boot (qemu-x86 build) scans the bootable partition for
# /boot/boot.scr and runs it with devtype, devnum and distro_bootpart set.
# The partition's root is the ostree sysroot.  ostree's U-Boot backend
# writes kernel_image and ramdisk_image with a /boot prefix
# (/boot/ostree/plugpull-<bootcsum>/vmlinuz-<kver>), while the BLS entries
# beside it name the same files relative to the /boot filesystem
# (/ostree/...); boot/boot -> . makes both forms work whether or not /boot
# is its own partition.  boot/loader is the symlink ostree swaps
# atomically (loader.0 <-> loader.1); U-Boot's ext4 driver follows it.
#
# uEnv.txt (ostree's U-Boot backend, 2022.7) sets kernel_image,
# ramdisk_image and bootargs (the deployment's kargs: root=, rw, ostree=)
# for the default deployment (and kernel_image2/ramdisk_image2/bootargs2
# for the rollback when there is one).  We add the serial console, and
# five arguments that only make the boot shorter.  The first two were
# measured under TCG with -icount (guest instructions from kernel start
# to /init, deterministic where wall time on a shared machine is not):
#   cryptomgr.notests=1  skip the crypto self-tests of every algorithm
#                        registered at boot: 1.90 s -> 1.02 s
#   rodata=off           no read-only marking of kernel data, and so no
#                        W+X page table check (CONFIG_DEBUG_WX): -0.14 s
#   pci=noacpi           PCI interrupt routing from U-Boot's PIRQ table,
#                        not ACPI: enabling the ACPI interrupt link of each
#                        virtio device took 0.12-0.15 s of wall time (the
#                        virtio devices use MSI-X anyway; the kernel now
#                        warns "can't find IRQ for PCI INT A"); modprobe
#                        and mount in the initramfs: 0.85 s -> 0.52 s
#                        (medians of 4 interleaved boots)
#   noreplace-smp        keep the LOCK prefixes of the one-CPU kernel and
#                        its modules instead of patching them out: TCG
#                        pays for every patched code page; kernel to /init
#                        1.59 s -> 1.48 s, modprobe and mount 0.50 s ->
#                        0.42 s (medians of 4 interleaved boots)
#   noapictimer          ticks from the HPET instead of the local APIC
#                        timer, whose calibration waits about 0.1 s (TCG
#                        has no TSC-deadline timer that would skip it):
#                        0.14 s -> 0.04 s there (medians of 11 boots);
#                        ostree admin status, ostree fsck and a shell loop
#                        took the same time either way, within the noise
#                        (6 boots each)
# None of them touches the storage path under test (block, ext4, ostree).
# Tried and dropped (no change in the instruction count): quiet,
# 8250.nr_uarts=1, ipv6.disable=1, no_timer_check tsc=reliable,
# rcupdate.rcu_expedited=1; mitigations=off changed neither that count
# nor the wall time.  nokaslr did not boot (an oops on an address inside
# the initrd U-Boot loads at 64 MiB; not pursued).
#
# Every line the harness reads starts with PLUGPULL-UBOOT.  On a failure
# the script returns and distro boot moves on to its other targets, which
# find nothing and leave U-Boot at its prompt: the harness times out.

# The initramfs goes to 128 MiB, not to U-Boot's ramdisk_addr_r (64 MiB):
# the kernel's decompressor first moves the compressed kernel to the end
# of its buffer, kernel_addr_r (16 MiB) + init_size (Debian 6.1: 63.6
# MiB), about 79.6 MiB, over whatever lies there.  The built-in image's
# 5 MB initramfs ended below that; a Debian firmware's 13 MB dracut
# initramfs did not ("Initramfs unpacking failed: uncompression error").
setenv pp_part "${devtype} ${devnum}:${distro_bootpart}"
setenv pp_env_addr 0x6800000
setenv pp_ramdisk_addr 0x8000000
echo "PLUGPULL-UBOOT script on ${pp_part}"
if ext4load ${devtype} ${devnum}:${distro_bootpart} ${pp_env_addr} /boot/loader/uEnv.txt; then
    env import -t ${pp_env_addr} ${filesize}
    echo "PLUGPULL-UBOOT kernel_image=${kernel_image} ramdisk_image=${ramdisk_image}"
    if ext4load ${devtype} ${devnum}:${distro_bootpart} ${kernel_addr_r} ${kernel_image}; then
        setenv pp_kernel_size ${filesize}
        if test "${pp_kernel_size}" = "0"; then
            echo "PLUGPULL-UBOOT error: ${kernel_image} is empty"
        elif ext4load ${devtype} ${devnum}:${distro_bootpart} ${pp_ramdisk_addr} ${ramdisk_image}; then
            setenv pp_ramdisk_size ${filesize}
            setenv bootargs "${bootargs} console=ttyS0,115200 panic=-1 cryptomgr.notests=1 rodata=off pci=noacpi noreplace-smp noapictimer"
            echo "PLUGPULL-UBOOT zboot bootargs=${bootargs}"
            zboot ${kernel_addr_r} ${pp_kernel_size} ${pp_ramdisk_addr} ${pp_ramdisk_size}
            echo "PLUGPULL-UBOOT error: zboot returned"
        else
            echo "PLUGPULL-UBOOT error: cannot load ${ramdisk_image}"
        fi
    else
        echo "PLUGPULL-UBOOT error: cannot load ${kernel_image}"
    fi
else
    echo "PLUGPULL-UBOOT error: cannot load /boot/loader/uEnv.txt"
fi
