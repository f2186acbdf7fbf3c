"""nets.py: the zoo's two CIFAR-10 networks in PyTorch, in their training form.

MobileNetV2 (width multiplier 0.5) and RepVGG-A0 (multi-branch training-time blocks: 3x3 conv + BN,
1x1 conv + BN and, where the shapes allow, an identity BN, summed before the ReLU). The strides are
adapted to 32x32 inputs (see STRIDES below); widths and depths are those of the papers.
The 3x3-only deploy form of RepVGG is NOT made here: edgeinfer's quantizer finds and fuses the branches
in the exported ONNX graph itself (quant/transform). repvgg_deploy() below exists only so that PyTorch's
own post-training quantization (ptq.py) can be measured on the same fused network."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


class ConvBNReLU6(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, groups=1):
        super().__init__(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=False))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = []
        if t != 1:
            layers.append(ConvBNReLU6(cin, hidden, 1))
        layers += [ConvBNReLU6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    # (expansion t, channels c, repeats n, stride s). With the stem's stride 2 a 32x32 input goes
    # 16 -> 8 -> 4 -> 2 (ImageNet's 224 goes 112 -> ... -> 7 with the same strides after the stem).
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, width=0.5, classes=10, stem_stride=2):
        super().__init__()
        cin = _divisible(32 * width)
        layers = [ConvBNReLU6(3, cin, 3, stem_stride)]
        for t, c, n, s in self.SETTINGS:
            cout = _divisible(c * width)
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        last = _divisible(1280 * max(1.0, width))
        layers.append(ConvBNReLU6(cin, last, 1))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.2)
        self.classifier = nn.Linear(last, classes)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(self.dropout(x))


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class RepVGGBlock(nn.Module):
    """The training-time block: ReLU(BN(conv3x3(x)) + BN(conv1x1(x)) + BN(x))."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.dense = conv_bn(cin, cout, 3, stride)
        self.one = conv_bn(cin, cout, 1, stride)
        self.identity = nn.BatchNorm2d(cin) if cin == cout and stride == 1 else None

    def forward(self, x):
        y = self.dense(x) + self.one(x)
        if self.identity is not None:
            y = y + self.identity(x)
        return F.relu(y)


class RepVGG(nn.Module):
    """RepVGG-A0: blocks per stage 1, 2, 4, 14, 1; widths 48, 48, 96, 192, 1280 (a = 0.75, b = 2.5).
    Strides as on ImageNet (2, 2, 2, 2, 2) but the last stage's 1: a 32x32 input goes 16 -> 8 -> 4 -> 2."""
    BLOCKS = [1, 2, 4, 14, 1]
    WIDTHS = [48, 48, 96, 192, 1280]

    def __init__(self, classes=10, strides=(2, 2, 2, 2, 1)):
        super().__init__()
        blocks, cin = [], 3
        for n, w, s in zip(self.BLOCKS, self.WIDTHS, strides):
            for i in range(n):
                blocks.append(RepVGGBlock(cin, w, s if i == 0 else 1))
                cin = w
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def _fuse_bn(kernel, bn):
    std = (bn.running_var + bn.eps).sqrt()
    t = (bn.weight / std).reshape(-1, 1, 1, 1)
    return kernel * t, bn.bias - bn.running_mean * bn.weight / std


def repvgg_deploy(net):
    """A copy of a trained RepVGG with every block fused into one 3x3 conv with bias (the RepVGG
    paper's re-parameterisation), used only by ptq.py."""
    import copy
    net = copy.deepcopy(net).eval()
    fused = []
    for b in net.features:
        cout, cin = b.dense[0].weight.shape[:2]
        k, bias = _fuse_bn(b.dense[0].weight, b.dense[1])
        k1, b1 = _fuse_bn(b.one[0].weight, b.one[1])
        k = k + F.pad(k1, [1, 1, 1, 1])
        bias = bias + b1
        if b.identity is not None:
            ident = torch.zeros(cin, cin, 3, 3)
            for i in range(cin):
                ident[i, i, 1, 1] = 1
            ki, bi = _fuse_bn(ident, b.identity)
            k, bias = k + ki, bias + bi
        conv = nn.Conv2d(cin, cout, 3, b.dense[0].stride, 1, bias=True)
        conv.weight.data, conv.bias.data = k.detach(), bias.detach()
        fused += [conv, nn.ReLU()]
    net.features = nn.Sequential(*fused)
    return net


NETS = {
    'mobilenetv2_0.5': lambda: MobileNetV2(width=0.5),
    'repvgg_a0': lambda: RepVGG(),
}


def macs(net, size=32):
    total = 0

    def hook(m, i, o):
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 3, size, size))
    for h in hs:
        h.remove()
    return total
