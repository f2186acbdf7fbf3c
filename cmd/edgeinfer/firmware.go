package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/edgeinfer/edgeinfer/firmware"
	"github.com/edgeinfer/edgeinfer/internal/credentials"
	"github.com/edgeinfer/edgeinfer/models/load"
	"github.com/edgeinfer/edgeinfer/pipeline"
)

func init() {
	commands["firmware"] = command{"build a bootable SD card image for a Raspberry Pi (firmware build)", runFirmware}
}

const firmwareUsage = `build --board pi3|pi4|pi5|zero2w -o sdcard.img [flags]

Without --base: an appliance image made from scratch (FAT32 boot partition with the Pi firmware and
a 64-bit Linux 6.12 kernel from github.com/gokrazy/kernel.rpi, read-only squashfs root with
edgeinfer as init, FAT32 data partition at /data; Ethernet by DHCP, USB webcams, no CSI camera).
WiFi (--wifi-ssid, --wifi-psk, --wifi-country): the on-board radio joins that WPA2-Personal network,
its firmware taken from Debian's firmware-brcm80211 and wireless-regdb packages (downloaded once and
verified by SHA-256, or from --wifi-firmware DIR); wifi.json on the data partition can change it later.
MQTT: --broker URL publishes to that broker. Without it the device is reachable on the network: its
embedded MQTT broker (port 1883) and its status page and /metrics (port 9108) listen on every
interface and ask for a username and password generated now, printed once at the end and written to
credentials.yaml on the data partition (see README, "Reaching the appliance").
With --base raspios-lite.img: a copy of that Raspberry Pi OS Lite image with edgeinfer installed on first boot
(systemd unit, WiFi and host name applied like Raspberry Pi Imager does).

The edgeinfer binary put in the image: --binary FILE; else this executable when it is linux/arm64;
else one built with 'go build' (CGO_ENABLED=0 GOOS=linux GOARCH=arm64) from the source tree around the
current directory.`

// runFirmware: edgeinfer firmware build ...
func runFirmware(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "build" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(e.stderr, "usage: edgeinfer firmware %s\n", firmwareUsage)
			return nil
		}
		return usagef("usage: edgeinfer firmware build --board BOARD -o FILE (boards: %s)", strings.Join(firmware.Boards(), ", "))
	}
	fs := newFlags(e, "firmware build", "")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: edgeinfer firmware %s\n\nflags:\n", firmwareUsage)
		fs.PrintDefaults()
	}
	boardName := fs.String("board", "", "board: "+strings.Join(firmware.Boards(), ", "))
	out := fs.String("o", "", "image file to write")
	configFile := fs.String("config", "", "edgeinfer.yaml to put in the image (default: source auto, everything else default)")
	model := fs.String("model", "", "model file, or the name of an embedded or pulled model (default: the config's model, else "+defaultModelHint()+")")
	labels := fs.String("labels", "", "labels file (default: the config's, or NAME.labels.txt beside the model)")
	binary := fs.String("binary", "", "linux executable of edgeinfer for the board (default: see above)")
	hostname := fs.String("hostname", "", "host name of the device (default: edgeinfer)")
	broker := fs.String("broker", "", "appliance: MQTT broker URL to publish to, e.g. tcp://homeassistant.lan:1883 (default: the config's mqtt.broker, else the embedded broker, reachable with generated credentials)")
	ssid := fs.String("wifi-ssid", "", "WiFi network (WPA2-Personal) to join")
	psk := fs.String("wifi-psk", "", "WiFi passphrase, 8 to 63 characters (stored only as its WPA PSK)")
	country := fs.String("wifi-country", "", "WiFi regulatory country, two letters, e.g. GB, DE, US (required with --wifi-ssid)")
	ntp := fs.String("ntp", strings.Join(firmware.DefaultNTPServers, ","), "appliance: NTP servers that set the clock, comma-separated host[:port]; none: no NTP")
	wifiFW := fs.String("wifi-firmware", "", "appliance: directory like /lib/firmware with the WiFi firmware (default: download Debian's firmware-brcm80211 and wireless-regdb once)")
	base := fs.String("base", "", "Raspberry Pi OS Lite image to customise instead of building an appliance")
	bootMount := fs.String("boot-mount", firmware.DefaultBootMount, "where Raspberry Pi OS mounts the boot partition (--base; /boot before Bookworm)")
	size := fs.String("size", "", "size of the appliance image, e.g. 512M or 2G; the data partition gets the rest (default: as small as possible)")
	kernelDir := fs.String("kernel-dir", "", "directory of github.com/gokrazy/kernel.rpi (default: the Go module cache at "+firmware.KernelVersion+")")
	firmwareDir := fs.String("firmware-dir", "", "directory of github.com/gokrazy/firmware (default: the Go module cache at "+firmware.FirmwareVersion+")")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("firmware build takes no arguments")
	}
	if *boardName == "" {
		return usagef("--board is required (%s)", strings.Join(firmware.Boards(), ", "))
	}
	board, err := firmware.LookupBoard(*boardName)
	if err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usagef("-o FILE is required")
	}
	var imgSize int64
	if *size != "" {
		if *base != "" {
			return usagef("--size applies to appliance images only (a --base image keeps its size)")
		}
		if imgSize, err = parseSize(*size); err != nil {
			return usageError{err.Error()}
		}
	}
	if (*ssid == "") != (*psk == "") {
		return usagef("--wifi-ssid and --wifi-psk go together")
	}
	if *broker != "" && *base != "" {
		return usagef("--broker applies to appliance images only (for --base, set mqtt.broker in --config)")
	}
	if *wifiFW != "" && *base != "" {
		return usagef("--wifi-firmware applies to appliance images only (Raspberry Pi OS has its own)")
	}
	ntpServers := []string{} // empty, not nil: none
	if *ntp != "none" {
		for _, s := range strings.Split(*ntp, ",") {
			if s = strings.TrimSpace(s); s != "" {
				ntpServers = append(ntpServers, s)
			}
		}
	}
	var wifiNet *firmware.WiFi
	if *ssid != "" {
		wifiNet = &firmware.WiFi{SSID: *ssid, Passphrase: *psk, Country: strings.ToUpper(*country)}
	}

	// Configuration and model.
	var cfgData []byte
	var cfg pipeline.Config
	if *configFile != "" {
		if cfgData, err = os.ReadFile(*configFile); err != nil {
			return fmt.Errorf("pipeline: config: %w", err)
		}
		if err := cfg.Load(*configFile, cfgData); err != nil {
			return err
		}
	}
	modelName := *model
	if modelName == "" {
		modelName = cfg.Model
	}
	// No model named: the default model (fetched once; offline the embedded one, with a WARN).
	info, warn := oneShotNotes(e, "firmware build")
	modelPath, err := modelOrDefault(ctx, e, modelName, info, warn)
	if err != nil {
		return err
	}
	labelsPath := *labels
	if labelsPath == "" {
		labelsPath = cfg.LabelsFile
	}
	if labelsPath == "" {
		labelsPath = sidecarLabels(modelPath)
	}
	// Load the model here: a model the device cannot run, or one without labels, would only show
	// as 'edgeinfer run' failing (and restarting) on the device.
	m, closer, err := load.Model(modelPath)
	if err != nil {
		return err
	}
	hasLabels := len(m.Labels) > 0
	closer.Close()
	if labelsPath == "" && !hasLabels {
		return usagef("model %s has no labels and there is no NAME.labels.txt beside it: pass --labels FILE", modelPath)
	}

	// The binary.
	bin := *binary
	if bin == "" {
		tmp, err := os.MkdirTemp("", "edgeinfer-bin-")
		if err != nil {
			return fmt.Errorf("firmware: %w", err)
		}
		defer os.RemoveAll(tmp)
		if bin, err = findBinary(ctx, e, board, tmp); err != nil {
			return err
		}
	}
	payload := firmware.Payload{Binary: bin, Model: modelPath, Labels: labelsPath, Config: cfgData, Hostname: *hostname}
	// No broker anywhere: the embedded one, reachable, with credentials made for this image.
	var creds *credentials.Credentials
	if *base == "" && *broker == "" && cfg.MQTT.Broker == "" {
		c, err := credentials.Generate()
		if err != nil {
			return fmt.Errorf("firmware: %w", err)
		}
		creds = &c
	}
	var s *firmware.Summary
	if *base != "" {
		s, err = firmware.CustomizeRaspiOS(ctx, *out, firmware.RaspiOSOptions{Base: *base, Board: board, Payload: payload,
			WiFi: wifiNet, BootMount: *bootMount, Log: e.log})
	} else {
		s, err = firmware.BuildAppliance(ctx, *out, firmware.ApplianceOptions{Board: board, Payload: payload,
			KernelDir: *kernelDir, FirmwareDir: *firmwareDir, Size: imgSize, WiFi: wifiNet, WiFiFirmware: *wifiFW, NTPServers: ntpServers,
			Broker: *broker, Credentials: creds, Log: e.log})
	}
	if err != nil {
		return err
	}
	s.Write(e.stdout)
	if creds != nil {
		writeCredentials(e.stdout, *creds, payload.Hostname)
	}
	return nil
}

// writeCredentials prints the credentials of a new appliance image, once, with where they apply.
func writeCredentials(w io.Writer, c credentials.Credentials, host string) {
	if host == "" {
		host = firmware.DefaultHostname
	}
	fmt.Fprintf(w, `
The device's MQTT broker (port 1883) and status page (port 9108) ask for these credentials. They
were generated for this image and are shown only now; the image keeps a copy in credentials.yaml
on its data partition (EIDATA), where they can be read or changed later.

  username: %[1]s
  password: %[2]s

  mosquitto_sub -h DEVICE -p 1883 -u '%[1]s' -P '%[2]s' -t 'edgeinfer/#' -v
  status page:  http://DEVICE:9108/

DEVICE is the device's IP address (the router's list of DHCP clients shows it as %[3]s), or
its host name where the local DNS knows it.
`, c.Username, c.Password, host)
}

// findBinary picks the edgeinfer executable for board: this one when it fits, else one built from
// the source tree around the working directory into dir.
func findBinary(ctx context.Context, e *env, board firmware.Board, dir string) (string, error) {
	if runtime.GOOS == "linux" && runtime.GOARCH == board.GOARCH && board.GOARM == "" {
		if self, err := os.Executable(); err == nil && firmware.CheckBinary(self, board) == nil {
			e.log.Info("firmware: using this executable", "path", self)
			return self, nil
		}
	}
	wd, _ := os.Getwd()
	root := firmware.FindModuleRoot(wd)
	if root == "" {
		return "", fmt.Errorf("firmware: this edgeinfer is %s/%s and there is no edgeinfer source tree here to build a linux/%s one from; pass --binary FILE", runtime.GOOS, runtime.GOARCH, board.GOARCH)
	}
	out := filepath.Join(dir, "edgeinfer")
	e.log.Info("firmware: building edgeinfer", "GOOS", "linux", "GOARCH", board.GOARCH, "source", root)
	if err := firmware.BuildBinary(ctx, root, board, out); err != nil {
		return "", err
	}
	return out, nil
}

// parseSize reads 512M, 2G, 1048576 (bytes).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	num := strings.TrimRight(s, "KMG")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, errors.New("--size: want a positive number of bytes, or a number followed by K, M or G")
	}
	return n * mult, nil
}
