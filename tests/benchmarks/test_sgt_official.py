"""Our SGT step against the official SGT code's MNIST step, side by side (``make benchmark``).

The official step, reimplemented here from its published source (ayaabdelsalam91/
saliency_guided_training at commit 925ad6f; written from reading it, not copied):

- ``Scripts/cnn.py`` lines 6-29, the MNIST network: conv 1->32 (3x3), ReLU, conv 32->64
  (3x3), ReLU, 2x2 max-pool, dropout 0.25, flatten, linear 9216->128, ReLU, dropout 0.5,
  linear 128->10, and ``log_softmax`` *inside* the network (it returns log-probabilities).
  ``OfficialNet`` below; our ``simple_cnn`` has the same layers under the same parameter
  names, so both sides load one state dict.
- ``Scripts/train_MNIST.py`` lines 89-91: ``optim.Adadelta(lr=1.0)`` (``--lr`` default 1.0),
  ``nn.CrossEntropyLoss()``, ``KLDivLoss(log_target=True, reduction='batchmean')``; line 30:
  batch 512 by default; the README's command ``--trainingType interpretable --featuresDroped
  0.5 --RandomMasking`` (no ``--abs``: signed saliency).
- ``Scripts/interpretable.py`` ``train`` lines 52-130, one iteration of the batch loop:
  the input is made a leaf that requires grad (line 62; so the training backward also
  computes a gradient for the input, which nothing reads); eval mode (64);
  k = int(0.5 * 1*28*28) = 392 (65); a clone of the input (67); Captum ``Saliency``
  (vanilla gradient of the network's output, i.e. the log-probability, at the label,
  ``abs=False``), channel mean, detached, on the CPU (68-69); ``torch.topk(..., largest=False)``
  of the flattened signed saliency (74-76); then per image (78-85) its min and max read
  with ``.item()``, k values from NumPy's global ``np.random.uniform(min, max)``, converted to
  a float32 tensor and written at the k positions; the masked batch detached (94); train
  mode (95); ``zero_grad`` (99); clean forward and CE on its log-probabilities (100-103,
  ``.item()`` of the CE); masked forward and KL(masked log-probs, clean log-probs) (106-109,
  ``.item()`` of the KL, line 116); loss = CE + KL (117), backward, optimizer step (123-124);
  ``.item()`` of the loss and of the correct count (127-130). The progress bar (137-141,
  terminal output) is left out.

Ours: ``benchmark.runs.training.train_step`` with ``methods.sgt.SGT`` at the README command's
settings (fraction 0.5, random fill, ``saliency_sign='signed'``: the official command sorts
signed values) and the same optimizer, on ``simple_cnn`` with the same initial weights, the
same batch (MNIST-shaped 1x28x28, batch 64 and 512), 2 torch threads.

Timing: the two steps alternate (official, ours, official, ours, ...), each on its own copy
of the network and optimizer; the reported figure is median(ours) / median(official) with a
95% bootstrap confidence interval over the paired repeats (``scipy.stats.bootstrap``,
seeded), printed and stored in ``benchmark.extra_info`` with the machine's load average
(the figures are only meaningful on an idle machine), beside the ratio of the fastest rounds
and the ratio of process CPU times (less sensitive to other processes than wall time).
pytest-benchmark's own statistics are ours' step times (the official step runs in the
untimed ``setup`` of each round). Target: ours / official <= 0.95 at both batch sizes
(asserted on the wall-time or the CPU-time ratio).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import Saliency
from torch import nn

from benchmark.contracts import Batch, TrainState
from benchmark.models import build_network
from benchmark.runs.training import train_step
from benchmark.seeding import make_generator
from methods.sgt import SGT

TARGET = 0.95
FRACTION = 0.5  # README: --featuresDroped 0.5
LR = 1.0  # train_MNIST.py --lr default
ROUNDS = {64: 40, 512: 20}
WARMUP = 3


class OfficialNet(nn.Module):
    """``Scripts/cnn.py`` ``Net``: the same layers as ``simple_cnn``; returns log-probabilities."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        h = F.relu(self.fc1(torch.flatten(self.dropout1(h), 1)))
        return F.log_softmax(self.fc2(self.dropout2(h)), dim=1)


def official_saliency(model: nn.Module, data: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """interpretable.py 64, 68-69: eval mode, Captum's vanilla gradient of the output at the label,
    channel mean, detached, on the CPU as float. The caller restores train mode (line 95)."""
    model.eval()
    return Saliency(model).attribute(data, target, abs=False).mean(1).detach().cpu().to(dtype=torch.float)


def official_mask(
    data: torch.Tensor, grads: torch.Tensor, fraction: float, random_masking: bool = True, absolute: bool = False
) -> torch.Tensor:
    """interpretable.py 65-67, 70-87, 94 (the MNIST path): the ``k`` lowest saliency values of each
    flattened image (``topk(largest=False)``) replaced by ``np.random.uniform(min, max)`` of that
    image, drawn image by image from NumPy's global generator (or, without random masking, by
    the batch's first pixel)."""
    k = int(fraction * data.shape[1] * data.shape[2] * data.shape[3])
    work = data.clone()
    if absolute:
        grads = grads.abs()
    work = work.view(work.shape[0], -1).detach()
    _, index = torch.topk(grads.view(grads.shape[0], -1), k, dim=1, largest=False)
    for i in range(work.shape[0]):
        if random_masking:
            low, high = torch.min(work[i]).item(), torch.max(work[i]).item()
            draws = np.random.uniform(low=low, high=high, size=(len(index[i]),))
            work[i][index[i]] = torch.Tensor(draws).to(data.device)
        else:
            work[i][index[i]] = data[0, 0, 0, 0]
    return work.view(data.shape).detach()


CRITERION = nn.CrossEntropyLoss()  # train_MNIST.py 90
CRITERION_KL = nn.KLDivLoss(log_target=True, reduction="batchmean")  # train_MNIST.py 91


def official_loss(
    model: nn.Module, data: torch.Tensor, masked: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """interpretable.py 95, 100-117: train mode, clean forward, CE on its log-probabilities, masked
    forward, KLDivLoss(masked log-probs, clean log-probs; log_target, batchmean), their sum.
    Returns (loss, CE, KL, clean output)."""
    model.train()
    output = model(data)
    ce = CRITERION(output, target)
    masked_output = model(masked)
    kl = CRITERION_KL(masked_output, output)
    return ce + kl, ce, kl, output


@dataclass
class OfficialTotals:
    """The running sums the official loop reads back with ``.item()`` every step."""

    model_loss: float = 0.0
    kl_loss: float = 0.0
    train_loss: float = 0.0
    correct: int = 0
    total: int = 0


def official_step(
    model: nn.Module,
    data: torch.Tensor,
    target: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    totals: OfficialTotals,
    fraction: float = FRACTION,
) -> None:
    """One iteration of interpretable.py's training loop (lines 61-130, progress bar excluded)."""
    data = data.detach().requires_grad_(True)  # line 62
    grads = official_saliency(model, data, target)
    masked = official_mask(data, grads, fraction)
    optimizer.zero_grad()  # line 99 (after model.train() at 95, done in official_loss)
    loss, ce, kl, output = official_loss(model, data, masked, target)
    totals.model_loss += ce.item()
    totals.kl_loss += kl.item()
    loss.backward()
    optimizer.step()
    totals.train_loss += loss.item()
    predicted = output.argmax(dim=1, keepdim=True)
    totals.total += target.size(0)
    totals.correct += predicted.eq(target.view_as(predicted)).sum().item()


def ours_method() -> SGT:
    """SGT at the README command's settings."""
    return SGT(fraction=FRACTION, fill="random", saliency_sign="signed")


def mnist_batch(batch_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-shaped inputs, normalized like train_MNIST.py 55-58 (mean 0.1307, std 0.3081)."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(batch_size, 1, 28, 28, generator=g) - 0.1307) / 0.3081
    return x, torch.randint(0, 10, (batch_size,), generator=g)


def paired_networks(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """simple_cnn and OfficialNet with the same weights."""
    torch.manual_seed(seed)
    ours = build_network("simple_cnn", 1, 10, 28).train()
    official = OfficialNet().train()
    official.load_state_dict(ours.state_dict())
    return ours, official


def ratio_with_ci(ours: np.ndarray, official: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """median(ours) / median(official) and its 95% paired bootstrap interval."""
    from scipy.stats import bootstrap

    def statistic(a, b, axis=-1):
        return np.median(a, axis=axis) / np.median(b, axis=axis)

    res = bootstrap(
        (ours, official),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=5000,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(statistic(ours, official)), float(res.confidence_interval.low), float(res.confidence_interval.high)


@pytest.mark.parametrize("batch_size", [64, 512])
def test_sgt_step_against_the_official_step(benchmark, batch_size):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x, y = mnist_batch(batch_size)
        ours_net, official_net = paired_networks()
        ours_opt = torch.optim.Adadelta(ours_net.parameters(), lr=LR)
        official_opt = torch.optim.Adadelta(official_net.parameters(), lr=LR)
        method, batch = ours_method(), Batch(x=x, y=y)
        state = TrainState(epoch=0, step=0, epochs=1, device=torch.device("cpu"), generator=make_generator(0))
        totals = OfficialTotals()
        np.random.seed(0)
        wall = {"ours": [], "official": []}
        cpu = {"ours": [], "official": []}

        def timed(side: str, step) -> None:
            cpu_began, began = time.process_time(), time.perf_counter()
            step()
            wall[side].append(time.perf_counter() - began)
            cpu[side].append(time.process_time() - cpu_began)

        def ours() -> None:
            timed("ours", lambda: train_step(ours_net, method, batch, state, ours_opt))

        def official() -> None:
            timed("official", lambda: official_step(official_net, x, y, official_opt, totals))

        for _ in range(WARMUP):
            official()
            ours()
        for side in wall:
            wall[side].clear()
            cpu[side].clear()
        benchmark.group = "sgt vs official"
        benchmark.pedantic(ours, setup=official, rounds=ROUNDS[batch_size], warmup_rounds=0, iterations=1)
        ours_s, official_s = np.asarray(wall["ours"]), np.asarray(wall["official"])
        ratio, low, high = ratio_with_ci(ours_s, official_s)
        cpu_ratio, cpu_low, cpu_high = ratio_with_ci(np.asarray(cpu["ours"]), np.asarray(cpu["official"]))
        load = os.getloadavg()
        info = {
            "batch_size": batch_size,
            "threads": 2,
            "rounds": len(ours_s),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "ours_median_ms": round(1e3 * float(np.median(ours_s)), 2),
            "official_median_ms": round(1e3 * float(np.median(official_s)), 2),
            "ratio_ours_official": round(ratio, 4),
            "ci95": [round(low, 4), round(high, 4)],
            "ratio_of_minima": round(float(ours_s.min() / official_s.min()), 4),
            "cpu_time_ratio": round(cpu_ratio, 4),
            "cpu_time_ci95": [round(cpu_low, 4), round(cpu_high, 4)],
            "load_average": [round(v, 2) for v in load],
            "target": TARGET,
        }
        benchmark.extra_info.update(info)
        print(
            f"\nSGT vs official, batch {batch_size}, 2 threads: ours {info['ours_median_ms']} ms, official "
            f"{info['official_median_ms']} ms (medians of {len(ours_s)} interleaved rounds); ours/official "
            f"{ratio:.3f} [95% CI {low:.3f}, {high:.3f}], ratio of minima {info['ratio_of_minima']:.3f}, "
            f"CPU time {cpu_ratio:.3f} [{cpu_low:.3f}, {cpu_high:.3f}]; load {load[0]:.2f} {load[1]:.2f} "
            f"{load[2]:.2f}; target <= {TARGET}"
        )
    finally:
        torch.set_num_threads(threads)
    assert ratio <= TARGET or cpu_ratio <= TARGET, info
