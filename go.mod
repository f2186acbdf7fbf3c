module github.com/edgeinfer/edgeinfer

go 1.26.8

require (
	github.com/eclipse/paho.mqtt.golang v1.5.1
	github.com/google/flatbuffers v2.0.8+incompatible
	github.com/mochi-mqtt/server/v2 v2.7.9
	github.com/u-root/u-root v0.16.0
	github.com/x448/float16 v0.8.4
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
	google.golang.org/protobuf v1.36.12
	gopkg.in/yaml.v3 v3.0.1
	periph.io/x/conn/v3 v3.7.3
	periph.io/x/host/v3 v3.8.5
)

require (
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.22 // indirect
	github.com/rs/xid v1.4.0 // indirect
	github.com/u-root/uio v0.0.0-20240224005618-d2acac8f3701 // indirect
	golang.org/x/net v0.47.0 // indirect
	golang.org/x/sync v0.18.0 // indirect
)
