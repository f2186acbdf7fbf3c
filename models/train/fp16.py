"""fp16.py: rewrite an ONNX model's float32 initializers as float16 (half the bytes), for the copies
of the zoo's float models committed in models/zoo/onnx, which the quantizer's tests read in CI.
edgeinfer's ONNX reader widens them back to float32 (x448/float16).
Usage: /usr/bin/python3 models/train/fp16.py IN.onnx OUT.onnx   (Debian python3-onnx)"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
for i, t in enumerate(m.graph.initializer):
    if t.data_type == onnx.TensorProto.FLOAT:
        a = numpy_helper.to_array(t).astype(np.float16)
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
onnx.save(m, dst)
