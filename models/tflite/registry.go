package tflite

import (
	tfl "github.com/edgeinfer/edgeinfer/internal/tflite/schema/tflitefb"
	"github.com/edgeinfer/edgeinfer/models"
)

// builtinConverter converts one TensorFlow Lite operator (c.op, with code c.code) into an IR op.
// It returns nil without error when the operator was folded into another one.
type builtinConverter func(c *opCtx) (*models.Op, error)

// builtinOps holds the converters of the op families that live in files of their own (one file per
// family, each registering in an init function); convertOp's switch keeps the historical ones.
var builtinOps = map[tfl.BuiltinOperator]builtinConverter{}
