"""train.py: train one zoo network on CIFAR-10 and export it to ONNX.

Usage (Debian python3-torch 1.13; the five training batches come from ../shared/tools/cifar10/unpack.py):
  /usr/bin/python3 models/train/train.py --net repvgg_a0 --train-dir ~/.cache/edgeinfer/cifar10 \
      --test ../shared/data/cifar10/test_batch.bin --epochs 8 --out ~/.cache/edgeinfer/train
Writes OUT/NET.pt (weights), OUT/NET.onnx (opset 13, input "input" 1x3x32x32 float NCHW, output "logits",
BatchNorm kept as BatchNormalization nodes, RepVGG in its multi-branch form) and OUT/NET.json
(float top-1 on the test set, epochs, seconds). Preprocessing is torchvision's: pixels / 255, then
(x - MEAN) / STD per RGB channel; training adds random crops (4-pixel zero padding) and flips."""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import nets
from export import export

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def read_cifar(paths):
    raw = np.concatenate([np.fromfile(p, dtype=np.uint8) for p in paths]).reshape(-1, 3073)
    labels = torch.from_numpy(raw[:, 0].astype(np.int64))
    images = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy())
    return images, labels


def normalize(u8):
    x = u8.float().div_(255)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x, gen):
    n = x.shape[0]
    padded = F.pad(x, [4, 4, 4, 4])
    dx = torch.randint(0, 9, (n,), generator=gen)
    dy = torch.randint(0, 9, (n,), generator=gen)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def evaluate(net, images, labels, batch=500):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            logits = net(normalize(images[i:i + batch]))
            correct += (logits.argmax(1) == labels[i:i + batch]).sum().item()
    return 100.0 * correct / len(labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--net', required=True, choices=sorted(nets.NETS))
    ap.add_argument('--train-dir', required=True)
    ap.add_argument('--test', required=True)
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--limit', type=int, default=0, help='training images per epoch (0: all; for smoke tests)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    train_x, train_y = read_cifar([os.path.join(a.train_dir, f'data_batch_{i}.bin') for i in range(1, 6)])
    if a.limit:
        train_x, train_y = train_x[:a.limit], train_y[:a.limit]
    test_x, test_y = read_cifar([a.test])
    net = nets.NETS[a.net]()
    decay = [p for n, p in net.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in net.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{'params': decay, 'weight_decay': 5e-4}, {'params': no_decay, 'weight_decay': 0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    steps = a.epochs * (len(train_y) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.25)
    start = time.time()
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(len(train_y), generator=gen)
        seen, loss_sum = 0, 0.0
        for b in range(len(train_y) // a.batch):
            idx = perm[b * a.batch:(b + 1) * a.batch]
            x = normalize(augment(train_x[idx], gen))
            loss = F.cross_entropy(net(x), train_y[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += 1
            loss_sum += loss.item()
            if b % 50 == 0:
                print(f'{a.net} epoch {epoch + 1}/{a.epochs} step {b} loss {loss_sum / seen:.3f} '
                      f'{time.time() - start:.0f}s', flush=True)
        acc = evaluate(net, test_x, test_y)
        print(f'{a.net} epoch {epoch + 1}: loss {loss_sum / seen:.3f} test top-1 {acc:.2f}% '
              f'{time.time() - start:.0f}s', flush=True)
        torch.save(net.state_dict(), os.path.join(a.out, a.net + '.pt'))

    export(net, os.path.join(a.out, a.net + '.onnx'), nets.OPSETS.get(a.net, 13))
    info = {'net': a.net, 'epochs': a.epochs, 'seconds': round(time.time() - start),
            'float_top1': acc, 'macs': nets.macs(net), 'mean': MEAN, 'std': STD,
            'params': sum(p.numel() for p in net.parameters())}
    with open(os.path.join(a.out, a.net + '.json'), 'w') as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info), flush=True)


if __name__ == '__main__':
    main()
