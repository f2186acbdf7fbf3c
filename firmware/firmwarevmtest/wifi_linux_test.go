//go:build linux

package firmwarevmtest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/firmware"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
	"golang.org/x/sys/unix"
)

// TestWiFiStationHwsim runs the appliance's WiFi station against the kernel's simulated radios
// (mac80211_hwsim): it must find wlan0 through nl80211, request the regulatory country, read the
// radio's extended features and, since mac80211 radios do not run the WPA2 handshake themselves
// (the boards' brcmfmac radios do), stop with ErrNoPSKOffload rather than retry forever.
func TestWiFiStationHwsim(t *testing.T) {
	vmtest.Run(t, vmtest.Options{
		Modules: []string{"mac80211_hwsim radios=2"},
		WaitFor: []string{"/sys/class/net/wlan0", "/sys/class/net/wlan1"},
		Timeout: 3 * time.Minute,
	}, func(t *testing.T) {
		feats, err := firmware.WiFiExtFeatures("wlan0")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wlan0 extended features: %v", feats)
		// mac80211 sets these for every radio it drives: the bitmap was found and read.
		for _, f := range []int{unix.NL80211_EXT_FEATURE_CQM_RSSI_LIST, unix.NL80211_EXT_FEATURE_CONTROL_PORT_OVER_NL80211} {
			if !slices.Contains(feats, f) {
				t.Errorf("extended feature %d not reported; got %v", f, feats)
			}
		}
		if slices.Contains(feats, unix.NL80211_EXT_FEATURE_4WAY_HANDSHAKE_STA_PSK) {
			t.Error("hwsim reports 4-way handshake offload")
		}
		if _, err := firmware.WiFiExtFeatures("eth0"); err == nil || !strings.Contains(err.Error(), "no wireless interface eth0") {
			t.Errorf("eth0: %v", err)
		}

		var logs bytes.Buffer
		st := &firmware.WiFiStation{
			Net: firmware.InitWiFi{SSID: "edgeinfer-test", Country: "GB",
				PSK: "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"},
			Log: slog.New(slog.NewTextHandler(&logs, nil)),
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = st.Run(ctx)
		t.Logf("station log:\n%s", logs.String())
		if !errors.Is(err, firmware.ErrNoPSKOffload) || !strings.Contains(err.Error(), "wlan0") {
			t.Fatalf("Run: %v, want ErrNoPSKOffload naming wlan0", err)
		}
		for _, want := range []string{`msg="edgeinfer init: WiFi: interface" if=wlan0`, `msg="edgeinfer init: WiFi: regulatory country requested" country=GB`} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %q", want)
			}
		}

		// A bad PSK is refused before any radio is touched.
		st.Net.PSK = "abc"
		if err := st.Run(ctx); err == nil || !strings.Contains(err.Error(), "want 64 hex digits") {
			t.Errorf("bad PSK: %v", err)
		}
	})
}
