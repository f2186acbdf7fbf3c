// Package credentials is the username and password that guard an edgeinfer appliance reachable
// on the network: its embedded MQTT broker and its status page (package pipeline) check them, and
// 'edgeinfer firmware build' generates them (Generate) and writes them to the image's data
// partition as a small YAML file (Marshal; read back by Load):
//
//	# edgeinfer appliance credentials ...
//	username: edgeinfer-k3v9qa
//	password: 8Q2mW...
//
// Check compares a presented pair in constant time.
package credentials
