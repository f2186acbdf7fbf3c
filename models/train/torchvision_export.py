"""torchvision_export.py: export torchvision's ImageNet classifiers, with seeded random weights, to
ONNX at 224x224, for the import tests of issue 13's families (quant/quantize/torchvision_test.go).

Usage (Debian python3-torch 1.13, python3-torchvision 0.14):
  /usr/bin/python3 models/train/torchvision_export.py OUTDIR
Writes OUTDIR/NAME.onnx (opset 13, input "input" 1x3x224x224, output "logits"; BatchNorm in eval
mode, weights drawn by torch.manual_seed(0) then re-initialised as torchvision does; the exporter
folds constant subgraphs, as it does by default) for
resnet18, mobilenet_v3_small, shufflenet_v2_x0_5, densenet121, googlenet and efficientnet_b0.
Random weights: the tests compare edgeinfer's float run with ONNX Runtime's and check that the
network quantizes and runs int8, which needs no training. BatchNorm running statistics are set to
random positive values, so that they are not the identity."""
import os
import sys

import torch
import torchvision

MODELS = {
    'resnet18': lambda: torchvision.models.resnet18(),
    'mobilenet_v3_small': lambda: torchvision.models.mobilenet_v3_small(),
    'shufflenet_v2_x0_5': lambda: torchvision.models.shufflenet_v2_x0_5(),
    'densenet121': lambda: torchvision.models.densenet121(),
    'googlenet': lambda: torchvision.models.googlenet(aux_logits=False, init_weights=True),
    'efficientnet_b0': lambda: torchvision.models.efficientnet_b0(),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    only = sys.argv[2:] or list(MODELS)
    for name in only:
        torch.manual_seed(0)
        net = MODELS[name]()
        g = torch.Generator().manual_seed(1)
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
        net.eval()
        path = os.path.join(out, name + '.onnx')
        torch.onnx.export(net, torch.zeros(1, 3, 224, 224), path, opset_version=13,
                          input_names=['input'], output_names=['logits'])
        print(path, os.path.getsize(path), flush=True)


if __name__ == '__main__':
    main()
