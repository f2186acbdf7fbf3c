"""ptq.py: PyTorch's own post-training int8 quantization of a trained zoo network, as the yardstick
for edgeinfer's quantizer: FX graph mode, the onednn engine (Debian's torch 1.13 gives chance-level
results for depthwise convs with qnnpack), per-channel symmetric int8 weights, histogram observer for
activations (get_default_qconfig_mapping('onednn')), calibrated on the first N images of a CIFAR-10
binary file. RepVGG is measured in its fused (deploy) form, as its authors deploy it.

Usage: /usr/bin/python3 models/train/ptq.py --net repvgg_a0 --weights ~/.cache/edgeinfer/train/repvgg_a0.pt \
           --calib ~/.cache/edgeinfer/cifar10/data_batch_1.bin --count 500 --test ../shared/data/cifar10/test_batch.bin
Prints one JSON line: float and PyTorch-int8 top-1 on the test set."""
import argparse
import json

import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

import nets
from train import evaluate, normalize, read_cifar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--net', required=True, choices=sorted(nets.NETS))
    ap.add_argument('--weights', required=True)
    ap.add_argument('--calib', required=True)
    ap.add_argument('--count', type=int, default=500)
    ap.add_argument('--test', required=True)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.quantized.engine = 'onednn'
    net = nets.NETS[a.net]()
    net.load_state_dict(torch.load(a.weights))
    net.eval()
    if a.net.startswith('repvgg'):
        net = nets.repvgg_deploy(net)
    test_x, test_y = read_cifar([a.test])
    float_top1 = evaluate(net, test_x, test_y)

    calib_x, _ = read_cifar([a.calib])
    calib_x = calib_x[:a.count]
    prepared = prepare_fx(net, get_default_qconfig_mapping('onednn'), example_inputs=(torch.zeros(1, 3, 32, 32),))
    with torch.no_grad():
        for i in range(0, len(calib_x), 50):
            prepared(normalize(calib_x[i:i + 50]))
    q = convert_fx(prepared)
    int8_top1 = evaluate(q, test_x, test_y)
    print(json.dumps({'net': a.net, 'fused': a.net.startswith('repvgg'), 'float_top1': float_top1,
                      'pytorch_int8_top1': int8_top1, 'calib_images': len(calib_x), 'engine': 'onednn'}))


if __name__ == '__main__':
    main()
