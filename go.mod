module github.com/edgeinfer/edgeinfer

go 1.26.8

require (
	github.com/google/flatbuffers v2.0.8+incompatible // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sys v0.50.0
)
