package main

// The appliance image (package firmware) has no /etc/ssl: Mozilla's root certificates are built in
// as the fallback crypto/x509 uses when the system has none, so that an MQTT broker over TLS with a
// certificate from a public CA works there without a ca_file (GODEBUG=x509usefallbackroots=1
// forces them elsewhere). Systems with their own roots (Raspberry Pi OS, desktops) keep using those.
import _ "golang.org/x/crypto/x509roots/fallback"
