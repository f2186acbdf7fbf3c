package v4l2

import "fmt"

// FourCC formats a V4L2 pixel format code as its four characters.
func FourCC(c uint32) string {
	b := []byte{byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)}
	for _, x := range b {
		if x < ' ' || x > '~' {
			return fmt.Sprintf("%#08x", c)
		}
	}
	return string(b)
}

// Colour description values of struct v4l2_pix_format.
const (
	ColorspaceSMPTE170M = 1
	ColorspaceRec709    = 3
	ColorspaceJPEG      = 7
	ColorspaceSRGB      = 8
	YCbCrEnc601         = 1
	YCbCrEnc709         = 2
	QuantFullRange      = 1
	QuantLimRange       = 2
)
