//go:build linux

package firmwarevmtest

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgeinfer/edgeinfer/firmware"
	"github.com/edgeinfer/edgeinfer/internal/vmtest"
	"github.com/vishvananda/netlink"
)

func TestMain(m *testing.M) { vmtest.Main(m) }

// TestDHCP removes the address and routes vmtest gave eth0, then lets firmware.DHCP configure it
// from QEMU's DHCP server, as the appliance's init does.
func TestDHCP(t *testing.T) {
	vmtest.Run(t, vmtest.Options{Timeout: 3 * time.Minute}, func(t *testing.T) {
		eth0, err := netlink.LinkByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := netlink.AddrList(eth0, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if err := netlink.AddrDel(eth0, &a); err != nil {
				t.Fatal(err)
			}
		}
		if err := netlink.LinkSetDown(eth0); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("/etc", 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove("/etc/resolv.conf")

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		lease, renew, err := firmware.DHCP(ctx, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("lease after %v: %s; renew in %v", time.Since(start).Round(time.Millisecond), lease, renew)
		addrs, err = netlink.AddrList(eth0, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		if len(addrs) != 1 || addrs[0].IPNet.String() != "10.0.2.15/24" {
			t.Errorf("eth0 addresses %v, want 10.0.2.15/24", addrs)
		}
		routes, err := netlink.RouteList(eth0, netlink.FAMILY_V4)
		if err != nil {
			t.Fatal(err)
		}
		gw := false
		for _, r := range routes {
			if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.Equal(net.IPv4(10, 0, 2, 2)) {
				gw = true
			}
		}
		if !gw {
			t.Errorf("no default route via 10.0.2.2: %v", routes)
		}
		rc, err := os.ReadFile("/etc/resolv.conf")
		if err != nil || !strings.Contains(string(rc), "nameserver 10.0.2.3") {
			t.Errorf("/etc/resolv.conf: %q, %v", rc, err)
		}
		if renew != 12*time.Hour || !strings.HasPrefix(lease, "10.0.2.15/24 router [10.0.2.2] dns [10.0.2.3]") {
			t.Errorf("lease %q, renew in %v; want 10.0.2.15/24 from QEMU, renewed after 12h of its 24h", lease, renew)
		}
	})
}
