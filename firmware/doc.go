// Package firmware builds bootable SD card images for the Raspberry Pi 3, 4, 5 and Zero 2 W
// ('edgeinfer firmware build'), in-process and without root, loop devices or mounting: every file
// system is written with github.com/diskfs/go-diskfs.
//
// # Appliance images (BuildAppliance)
//
// An MBR disk with three partitions:
//
//  1. boot, FAT32 (128 MiB or more): the Raspberry Pi firmware the board needs (bootcode.bin,
//     start.elf and fixup.dat for the Pi 3 and Zero 2 W, start4.elf and fixup4.dat for the Pi 4,
//     none for the Pi 5, which boots from its EEPROM) from github.com/gokrazy/firmware; the 64-bit
//     Linux 6.12 kernel (vmlinuz) and the board's device trees from github.com/gokrazy/kernel.rpi;
//     config.txt (arm_64bit, kernel=vmlinuz, enable_uart) and cmdline.txt (root=PARTUUID=ID-02,
//     init=/usr/bin/edgeinfer, console on serial0). No overlays/ directory: dtoverlay= is not
//     supported yet.
//  2. root, squashfs (read-only): /usr/bin/edgeinfer, the model and its labels in
//     /usr/share/edgeinfer, /etc/edgeinfer/edgeinfer.yaml, /etc/edgeinfer/init.json (InitConfig),
//     the uvcvideo kernel module and its dependencies, and mount points.
//  3. data, FAT32 (64 MiB, or the rest of --size): mounted at /data. An edgeinfer.yaml put there
//     (from any PC) replaces the built-in configuration; pulled models are cached in /data/cache.
//     With ApplianceOptions.Credentials, credentials.yaml (DataCredentials): the username and
//     password of the embedded MQTT broker and the status page, which then listen on every
//     interface (ApplianceMQTTListen, ApplianceListen; init passes them to 'edgeinfer run' unless
//     the configuration sets them). With ApplianceOptions.Broker, that broker instead.
//
// Every supported board has a 64-bit CPU, so the image always carries a linux/arm64 edgeinfer
// (Board.GOARCH); none needs GOARM. The kernel starts edgeinfer as process 1: RunInit mounts
// /dev, /proc, /sys, /run, /tmp and the data partition, opens the console, sets the host name,
// loads uvcvideo (and the WiFi drivers), brings up lo, runs DHCPv4
// (github.com/u-root/u-root/pkg/dhclient) on every Ethernet interface as it appears (eth*, usb*,
// en*), joins the WiFi network, keeps the clock set by NTP, and runs 'edgeinfer run' with the
// image's configuration and model, restarting it when it exits (1 s, doubling to 30 s).
//
// # WiFi (wifi.go, wifi_linux.go)
//
// With WiFi (ApplianceOptions.WiFi, or WiFiFirmware alone for a network named later in
// /data/wifi.json) the root also holds the radios' firmware in /lib/firmware/brcm (BCM43430: Pi 3
// B, Zero 2 W; BCM43455: Pi 3 B+/A+, Pi 4, Pi 5; with each board's NVRAM file) and the signed
// wireless regulatory database, taken from Debian 13's firmware-brcm80211 and wireless-regdb
// packages (WiFiFirmwarePackages: downloaded once into edgeinfer's cache by internal/download and
// checked against pinned SHA-256 sums; or a directory laid out like /lib/firmware), and init loads
// brcmfmac with its vendor modules. There is no WPA supplicant: WiFiStation asks nl80211 to
// connect with WPA2-PSK (CCMP) and hands the PSK to the radio's firmware, which runs the 4-way handshake itself
// (NL80211_EXT_FEATURE_4WAY_HANDSHAKE_STA_PSK, as gokrazy does); radios without that offload get
// ErrNoPSKOffload. It loads the regulatory database and requests the configured country, connects,
// checks the association every 5 s, runs DHCP on wlan0 while associated and reconnects when the
// link drops. The passphrase is never stored, only its PSK (PBKDF2-SHA1, IEEE 802.11i). Not
// supported: WPA3-SAE, WPA2-Enterprise, open networks, hidden-network scanning, the Zero 2 W
// revisions with the CYW43436 (brcmfmac43430b0 firmware, not in Debian's package).
//
// # Clock and certificates
//
// The boards have no battery-backed clock: the appliance starts at 1970 until an NTP server
// answers (SyncClock, an SNTP client, RFC 4330; DefaultNTPServers unless NTPServers says
// otherwise; every 2 s doubling to 64 s until one answers, then hourly). TLS certificates for an
// MQTT broker are checked against Mozilla's roots built into the binary
// (golang.org/x/crypto/x509roots/fallback), since the root has no /etc/ssl; a private CA still
// needs ca_file on the data partition.
//
// What the appliance does not do: the CSI camera (libcamera needs Raspberry Pi OS: use --base), USB
// devices other than webcams that need modules, WiFi other than WPA2-Personal.
//
// # Raspberry Pi OS images (CustomizeRaspiOS)
//
// A copy of a Raspberry Pi OS Lite image in which only the FAT32 boot partition changes, the way
// Raspberry Pi Imager customises images: the payload (edgeinfer-binary, edgeinfer-model-NAME,
// edgeinfer-labels.txt, edgeinfer-edgeinfer.yaml, edgeinfer-edgeinfer.service, a systemd drop-in
// edgeinfer-firmware.conf naming the model) and edgeinfer-firstrun.sh in the partition's root
// directory, and cmdline.txt extended with
//
//	systemd.run=/boot/firmware/edgeinfer-firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target
//
// On first boot the script installs /usr/local/bin/edgeinfer, the model in
// /usr/local/share/edgeinfer, /etc/edgeinfer/edgeinfer.yaml and the unit (enabled), sets the host
// name and WiFi (through /usr/lib/raspberrypi-sys-mods/imager_custom when present, else
// /etc/hostname and wpa_supplicant.conf; the passphrase is stored only as its WPA PSK), removes
// itself, its payload and the cmdline.txt entries, and the Pi reboots into the installed system.
// Releases before Bookworm mount the boot partition at /boot: pass BootMount (--boot-mount /boot).
//
// # Reproducibility
//
// The same inputs give the same bytes (see repro.go): fixed timestamps (SOURCE_DATE_EPOCH, else the
// kernel module's commit time), files written in sorted order, owner root, the MBR disk ID and FAT
// volume IDs derived from a SHA-256 of all inputs. BuildBinary builds with -trimpath and
// -buildvcs=false, so the same source and Go version give the same binary.
//
// # Workarounds for go-diskfs v1.9.4
//
// Its FAT32 geometry leaves the FAT two entries short at some sizes (fat32FitSize trims such
// partitions by a few sectors); new FAT subdirectories get a '..' entry fsck.fat rejects (so no
// subdirectories are written); FAT File.Read can return bytes past the end of a file (readFile
// reads exactly the size in the directory entry); squashfs creation time comes from the clock
// (patched afterwards); squashfs symlinks are read relative to the working directory (so the root
// has none) and disk.GetFilesystem cannot open a squashfs on a 512-byte-sector disk (tests call
// squashfs.Read directly).
package firmware
