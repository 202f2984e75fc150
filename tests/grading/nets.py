"""Small seeded networks the grading tests run answers on."""

import torch
from torch import nn


def small_net(seed, classes=4):
    """Conv-ReLU-pool-conv-ReLU, global average pooling, a linear classifier: (N, 3, H, W) -> (N, classes)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, classes))
    return net.eval()
