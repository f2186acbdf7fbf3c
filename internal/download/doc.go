// Package download fetches files into edgeinfer's cache, verified by SHA-256: the models of
// 'edgeinfer models pull' and of the default model (models/zoo) and the WiFi firmware of appliance
// images (firmware). A source is an http(s):// URL, a file:// URL or a local path, so that a mirror
// can be a plain directory (Join). Reaching a server is bounded by ConnectTimeout: offline, a fetch
// fails within seconds.
//
// Its tests are models/zoo's (a local HTTP server: success, cached file, wrong hash, HTTP error; a
// directory and a file:// mirror) and firmware's (the pinned Debian packages).
package download
