//go:build linux

package firmware

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/wifi"
	"golang.org/x/sys/unix"
)

// wifiNetwork returns the network the appliance joins: DataWiFi when present (an invalid one is
// logged and ignored), else the image's.
func wifiNetwork(log *slog.Logger, s *InitWiFiSupport) *InitWiFi {
	if b, err := os.ReadFile(DataWiFi); err == nil {
		w, err := ParseWiFiJSON(DataWiFi, b)
		if err == nil {
			log.Info("edgeinfer init: WiFi network from the data partition", "file", DataWiFi, "ssid", w.SSID)
			return &w
		}
		log.Error("edgeinfer init: ignoring the data partition's WiFi file", "err", err)
	} else if !errors.Is(err, os.ErrNotExist) {
		log.Error("edgeinfer init: WiFi file", "err", err)
	}
	return s.Network
}

// ErrNoPSKOffload says a WiFi driver cannot run the WPA2 4-way handshake itself. The appliance has
// no WPA supplicant: it relies on the firmware of the boards' Broadcom/Cypress radios (brcmfmac),
// which does (NL80211_EXT_FEATURE_4WAY_HANDSHAKE_STA_PSK).
var ErrNoPSKOffload = errors.New("the WiFi driver cannot do the WPA2 handshake itself (no 4-way handshake offload); the appliance supports the boards' on-board radios (brcmfmac)")

// WiFiStation joins one WPA2-Personal network with the driver's handshake offload and keeps it
// joined, checking the association every 5 s. It runs DHCP on the interface while associated.
type WiFiStation struct {
	Net InitWiFi
	Log *slog.Logger
}

// wifiPoll is the time between association checks.
const wifiPoll = 5 * time.Second

// wait sleeps for d and reports whether ctx is still live.
func wait(ctx context.Context, d time.Duration) bool {
	sleepCtx(ctx, d)
	return ctx.Err() == nil
}

// Run waits for a wireless interface, sets the regulatory country, connects and reconnects until
// ctx ends. It returns an error only when it cannot go on (no nl80211, no handshake offload).
func (s *WiFiStation) Run(ctx context.Context) error {
	log := s.Log
	pmk, err := hex.DecodeString(s.Net.PSK)
	if err != nil || len(pmk) != 32 {
		return fmt.Errorf("firmware: wifi: PSK of %q: want 64 hex digits", s.Net.SSID)
	}
	c, err := wifi.New()
	if err != nil {
		return fmt.Errorf("firmware: wifi: nl80211: %w", err)
	}
	defer c.Close()

	s.setCountry(ctx, c)

	var ifi *wifi.Interface
	for waited := false; ; waited = true {
		if ifi, err = stationInterface(c); err != nil {
			return err
		}
		if ifi != nil {
			break
		}
		if !waited {
			log.Info("edgeinfer init: WiFi: waiting for a wireless interface")
		}
		if !wait(ctx, 2*time.Second) {
			return ctx.Err()
		}
	}
	log.Info("edgeinfer init: WiFi: interface", "if", ifi.Name, "mac", ifi.HardwareAddr.String(), "phy", ifi.PHY)
	nl, err := dialNL80211()
	if err != nil {
		return err
	}
	defer nl.Close()
	feats, err := nl.extFeatures(ifi.PHY)
	if err != nil {
		return fmt.Errorf("firmware: wifi: %s: %w", ifi.Name, err)
	}
	if !hasFeature(feats, unix.NL80211_EXT_FEATURE_4WAY_HANDSHAKE_STA_PSK) {
		return fmt.Errorf("firmware: wifi: %s: %w", ifi.Name, ErrNoPSKOffload)
	}
	if err := linkUp(ifi.Name); err != nil {
		log.Warn("edgeinfer init: WiFi: link up", "if", ifi.Name, "err", err)
	}

	var stopDHCP context.CancelFunc
	defer func() {
		if stopDHCP != nil {
			stopDHCP()
		}
	}()
	var lastErr string
	for {
		bssid, signal, err := associated(c, ifi)
		switch {
		case err != nil:
			log.Warn("edgeinfer init: WiFi: station info", "if", ifi.Name, "err", err)
		case bssid != nil && stopDHCP == nil:
			log.Info("edgeinfer init: WiFi: associated", "ssid", s.Net.SSID, "bssid", bssid.String(), "signal_dBm", signal)
			stopDHCP = s.startDHCP(ctx, ifi.Name)
			lastErr = ""
		case bssid == nil:
			if stopDHCP != nil {
				log.Warn("edgeinfer init: WiFi: connection lost; reconnecting", "ssid", s.Net.SSID)
				stopDHCP()
				stopDHCP = nil
			}
			err := nl.connectPSK(ifi.Index, s.Net.SSID, pmk)
			switch {
			case err == nil:
				log.Info("edgeinfer init: WiFi: connecting", "ssid", s.Net.SSID, "if", ifi.Name)
			case errors.Is(err, unix.EALREADY):
				// A connection attempt is under way.
			case err.Error() != lastErr:
				log.Warn("edgeinfer init: WiFi: connect", "ssid", s.Net.SSID, "err", err)
			}
			if err != nil {
				lastErr = err.Error()
			}
		}
		if !wait(ctx, wifiPoll) {
			return ctx.Err()
		}
	}
}

// setCountry loads the regulatory database (/lib/firmware/regulatory.db: cfg80211 is built into
// the kernel and found no file before the root was mounted) and asks for the configured country,
// which is global and applies to radios that appear later. It logs the outcome; WiFi works without
// it, on the world domain's channels.
func (s *WiFiStation) setCountry(ctx context.Context, c *wifi.Client) {
	log := s.Log
	if err := c.ReloadRegulatoryDatabase(); err != nil {
		log.Warn("edgeinfer init: WiFi: loading the regulatory database", "err", err)
	}
	if err := c.SetRegulatoryRegion(s.Net.Country, wifi.RegulatoryHintUser); err != nil {
		log.Warn("edgeinfer init: WiFi: setting the regulatory country", "country", s.Net.Country, "err", err)
		return
	}
	log.Info("edgeinfer init: WiFi: regulatory country requested", "country", s.Net.Country)
	// The kernel applies the request asynchronously.
	got := ""
	for range 10 {
		if d, err := c.GetRegulatoryDomain(); err == nil {
			got = d.Region
		}
		if got == s.Net.Country || !wait(ctx, 200*time.Millisecond) {
			break
		}
	}
	if got == s.Net.Country {
		log.Info("edgeinfer init: WiFi: regulatory domain set", "country", got)
	} else {
		log.Warn("edgeinfer init: WiFi: regulatory domain not set (is /lib/firmware/regulatory.db present and signed?)", "want", s.Net.Country, "got", got)
	}
}

// startDHCP runs dhcpLoop on ifname until the returned function is called.
func (s *WiFiStation) startDHCP(ctx context.Context, ifname string) context.CancelFunc {
	ctx, cancel := context.WithCancel(ctx)
	go dhcpLoop(ctx, s.Log, ifname)
	return cancel
}

// stationInterface returns the wireless interface in station mode with the lowest index (wlan0
// on the boards), or nil.
func stationInterface(c *wifi.Client) (*wifi.Interface, error) {
	ifs, err := c.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("firmware: wifi: listing interfaces: %w", err)
	}
	var best *wifi.Interface
	for _, ifi := range ifs {
		if ifi.Type == wifi.InterfaceTypeStation && ifi.Name != "" && (best == nil || ifi.Index < best.Index) {
			best = ifi
		}
	}
	return best, nil
}

// associated returns the access point ifi is associated with, or nil.
func associated(c *wifi.Client, ifi *wifi.Interface) (net.HardwareAddr, int, error) {
	sta, err := c.StationInfo(ifi)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, nil
		}
		return nil, 0, err
	}
	for _, s := range sta {
		if len(s.HardwareAddr) == 6 && !bytes.Equal(s.HardwareAddr, make([]byte, 6)) {
			return s.HardwareAddr, s.Signal, nil
		}
	}
	return nil, 0, nil
}

// nl80211 is a generic netlink connection to the kernel's nl80211 family, for the requests
// github.com/mdlayher/wifi does not make: the extended features, and CONNECT with a PMK.
type nl80211 struct {
	*genetlink.Conn
	fam genetlink.Family
}

func dialNL80211() (*nl80211, error) {
	c, err := genetlink.Dial(nil)
	if err != nil {
		return nil, fmt.Errorf("firmware: wifi: generic netlink: %w", err)
	}
	fam, err := c.GetFamily("nl80211")
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("firmware: wifi: nl80211 family: %w", err)
	}
	return &nl80211{c, fam}, nil
}

// request sends command with the attributes encode writes.
func (nl *nl80211) request(command uint8, flags netlink.HeaderFlags, encode func(*netlink.AttributeEncoder)) ([]genetlink.Message, error) {
	ae := netlink.NewAttributeEncoder()
	encode(ae)
	b, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	return nl.Execute(genetlink.Message{
		Header: genetlink.Header{Command: command, Version: nl.fam.Version},
		Data:   b,
	}, nl.fam.ID, netlink.Request|flags)
}

// hasFeature reports whether bit feat is set in an NL80211_ATTR_EXT_FEATURES bitmap.
func hasFeature(f []byte, feat int) bool {
	return feat/8 < len(f) && f[feat/8]&(1<<(feat%8)) != 0
}

// extFeatures returns the NL80211_ATTR_EXT_FEATURES bitmap of wiphy phy (bit i of byte i/8 is
// extended feature i).
func (nl *nl80211) extFeatures(phy int) ([]byte, error) {
	msgs, err := nl.request(unix.NL80211_CMD_GET_WIPHY, netlink.Dump, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NL80211_ATTR_WIPHY, uint32(phy))
		ae.Flag(unix.NL80211_ATTR_SPLIT_WIPHY_DUMP, true)
	})
	if err != nil {
		return nil, fmt.Errorf("reading wiphy %d: %w", phy, err)
	}
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data)
		if err != nil {
			return nil, err
		}
		for ad.Next() {
			if ad.Type() == unix.NL80211_ATTR_EXT_FEATURES {
				return ad.Bytes(), nil
			}
		}
		if err := ad.Err(); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// WiFiExtFeatures returns the nl80211 extended features (NL80211_EXT_FEATURE_*) of the wireless
// interface ifname's device.
func WiFiExtFeatures(ifname string) ([]int, error) {
	c, err := wifi.New()
	if err != nil {
		return nil, fmt.Errorf("firmware: wifi: nl80211: %w", err)
	}
	defer c.Close()
	ifs, err := c.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("firmware: wifi: %w", err)
	}
	for _, ifi := range ifs {
		if ifi.Name != ifname {
			continue
		}
		nl, err := dialNL80211()
		if err != nil {
			return nil, err
		}
		defer nl.Close()
		f, err := nl.extFeatures(ifi.PHY)
		if err != nil {
			return nil, fmt.Errorf("firmware: wifi: %s: %w", ifname, err)
		}
		var set []int
		for i := range len(f) * 8 {
			if hasFeature(f, i) {
				set = append(set, i)
			}
		}
		return set, nil
	}
	return nil, fmt.Errorf("firmware: wifi: no wireless interface %s", ifname)
}

// WPA2-Personal with CCMP: IEEE 802.11 suite selectors (OUI 00-0F-AC).
const (
	cipherCCMP = 0x000fac04
	akmPSK     = 0x000fac02
)

// connectPSK asks nl80211 to join ssid with WPA2-PSK (CCMP), the 4-way handshake offloaded to the
// driver with pmk (the PSK).
func (nl *nl80211) connectPSK(ifindex int, ssid string, pmk []byte) error {
	_, err := nl.request(unix.NL80211_CMD_CONNECT, netlink.Acknowledge, func(ae *netlink.AttributeEncoder) {
		ae.Uint32(unix.NL80211_ATTR_IFINDEX, uint32(ifindex))
		ae.Bytes(unix.NL80211_ATTR_SSID, []byte(ssid))
		ae.Uint32(unix.NL80211_ATTR_AUTH_TYPE, unix.NL80211_AUTHTYPE_OPEN_SYSTEM)
		ae.Uint32(unix.NL80211_ATTR_WPA_VERSIONS, unix.NL80211_WPA_VERSION_2)
		ae.Uint32(unix.NL80211_ATTR_CIPHER_SUITE_GROUP, cipherCCMP)
		ae.Uint32(unix.NL80211_ATTR_CIPHER_SUITES_PAIRWISE, cipherCCMP)
		ae.Uint32(unix.NL80211_ATTR_AKM_SUITES, akmPSK)
		ae.Flag(unix.NL80211_ATTR_WANT_1X_4WAY_HS, true)
		ae.Bytes(unix.NL80211_ATTR_PMK, pmk)
	})
	return err
}
