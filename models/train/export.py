"""export.py: export the weights train.py saved (NET.pt) to ONNX exactly as train.py does at the end
of training; useful to look at a model while it is still training.
Usage: /usr/bin/python3 models/train/export.py --net repvgg_a0 --weights W.pt --out M.onnx"""
import argparse

import torch

import nets


def export(net, path, opset=13):
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 3, 32, 32), path, opset_version=opset,
                      input_names=['input'], output_names=['logits'],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--net', required=True, choices=sorted(nets.NETS))
    ap.add_argument('--weights', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    net = nets.NETS[a.net]()
    net.load_state_dict(torch.load(a.weights))
    export(net, a.out, nets.OPSETS.get(a.net, 13))


if __name__ == '__main__':
    main()
