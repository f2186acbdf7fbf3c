package models

import "unsafe"

// unsafeInt8s reinterprets b as int8s without copying.
func unsafeInt8s(b []byte) []int8 {
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}
