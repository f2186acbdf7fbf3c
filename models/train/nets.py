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


class BasicBlock(nn.Module):
    """ResNet's basic block (two 3x3 convs), optionally with squeeze-excitation before the sum; the
    shortcut is a 1x1 conv + BN where the shape changes (option B)."""

    def __init__(self, cin, cout, stride, se=False):
        super().__init__()
        self.c1 = conv_bn(cin, cout, 3, stride)
        self.c2 = conv_bn(cout, cout, 3, 1)
        self.se = SqueezeExcitation(cout, max(4, cout // 4), nn.ReLU, nn.Sigmoid) if se else None
        self.short = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(F.relu(self.c1(x)))
        if self.se is not None:
            y = self.se(y)
        return F.relu(y + (x if self.short is None else self.short(x)))


class SqueezeExcitation(nn.Module):
    """x * gate(fc2(act(fc1(avgpool(x))))), the fully connected layers as 1x1 convs (torchvision's)."""

    def __init__(self, c, squeeze, act, gate):
        super().__init__()
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.act, self.gate = act(), gate()

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.fc2(self.act(self.fc1(s))))


class ResNetCIFAR(nn.Module):
    """ResNet-20 for CIFAR (He et al. 2016, section 4.2): 3 stages of n basic blocks, widths 16, 32,
    64; se=True makes it SE-ResNet-20 (Hu et al. 2018)."""

    def __init__(self, n=3, classes=10, se=False):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 16, 3, 1), nn.ReLU())
        blocks, cin = [], 16
        for w, s in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                blocks.append(BasicBlock(cin, w, s if i == 0 else 1, se))
                cin = w
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.features(self.stem(x))
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


class DenseLayer(nn.Module):
    """DenseNet-BC's bottleneck layer, pre-activation: BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k), its
    output concatenated to its input."""

    def __init__(self, cin, growth):
        super().__init__()
        self.bn1, self.c1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2, self.c2 = nn.BatchNorm2d(4 * growth), nn.Conv2d(4 * growth, growth, 3, 1, 1, bias=False)

    def forward(self, x):
        y = self.c1(F.relu(self.bn1(x)))
        y = self.c2(F.relu(self.bn2(y)))
        return torch.cat([x, y], 1)


class DenseNetBC(nn.Module):
    """A small DenseNet-BC for CIFAR (Huang et al. 2017): growth 12, 3 dense blocks of `layers`
    bottleneck layers, transitions BN-ReLU-Conv1x1 (compression 0.5)-AvgPool 2x2 s2."""

    def __init__(self, layers=6, growth=12, classes=10):
        super().__init__()
        c = 2 * growth
        mods = [nn.Conv2d(3, c, 3, 1, 1, bias=False)]
        for b in range(3):
            for _ in range(layers):
                mods.append(DenseLayer(c, growth))
                c += growth
            if b < 2:
                mods += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2, 2)]
                c //= 2
        mods += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*mods)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(F.adaptive_avg_pool2d(x, 1).flatten(1))


def mobilenetv3_small(classes=10):
    """torchvision's MobileNetV3-small (hardswish, squeeze-excitation with hardsigmoid gates) for
    32x32 inputs: the stem's stride and the first block's are 1 instead of 2, so a 32x32 input ends at
    2x2 as a 224 one ends at 7x7."""
    import torchvision
    net = torchvision.models.mobilenet_v3_small(num_classes=classes)
    net.features[0][0].stride = (1, 1)
    net.features[1].block[0][0].stride = (1, 1)
    return net


def shufflenetv2(classes=10, width=1.0):
    """torchvision's ShuffleNetV2 (channel split, shuffle, concat) for 32x32 inputs: stem stride 1 and
    no max pool, so a 32x32 input ends at 4x4."""
    import torchvision
    make = {0.5: torchvision.models.shufflenet_v2_x0_5, 1.0: torchvision.models.shufflenet_v2_x1_0}[width]
    net = make(num_classes=classes)
    net.conv1[0].stride = (1, 1)
    net.maxpool = nn.Identity()
    return net


class ViTTiny(nn.Module):
    """A ViT for 32x32 (Dosovitskiy et al. 2021, the 'tiny' scale): 4x4 patches (64 tokens) plus a
    class token, learned positional embeddings, `depth` pre-norm blocks of multi-head attention and a
    GELU MLP, LayerNorm, the class token's logits."""

    def __init__(self, dim=96, depth=6, heads=3, mlp=2, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 65, dim) * 0.02)
        self.blocks = nn.ModuleList([ViTBlock(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x)[:, 0])


class ViTBlock(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.heads = heads
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, mlp * dim), nn.Linear(mlp * dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.n1(x)).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-2, -1) * (d // h) ** -0.5, -1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.n2(x))))


NETS = {
    'mobilenetv2_0.5': lambda: MobileNetV2(width=0.5),
    'repvgg_a0': lambda: RepVGG(),
    'resnet20': lambda: ResNetCIFAR(),
    'se_resnet20': lambda: ResNetCIFAR(se=True),
    'densenet_bc': lambda: DenseNetBC(),
    'mobilenetv3_small': mobilenetv3_small,
    'shufflenetv2_1.0': shufflenetv2,
    'vit_tiny': lambda: ViTTiny(),
}

# The ONNX opset each network is exported in (13 unless said): opset 14 writes MobileNetV3's
# hardswish as HardSwish (13 as x * HardSigmoid(x)), opset 17 writes ViT's LayerNorm as
# LayerNormalization.
OPSETS = {'mobilenetv3_small': 14, 'vit_tiny': 17}


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
