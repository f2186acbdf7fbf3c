// Package download fetches files over HTTP(S) into edgeinfer's cache, verified by SHA-256: the
// models of 'edgeinfer models pull' (models/zoo) and the WiFi firmware of appliance images
// (firmware).
//
// Its tests are models/zoo's (a local HTTP server: success, cached file, wrong hash, HTTP error) and
// firmware's (the pinned Debian packages).
package download
