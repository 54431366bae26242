"""Object detection on a grid of cells (the YOLO way, in miniature): the loss, reading boxes from a net's
outputs, pairing them with the true boxes, the scores, the end-of-run report and one image for the view.

A detector's output has the target's shape (appdata/boxes.py): for every cell of a grid over the image,
[object logit, x, y, w, h, class logits …], where x and y place the box's centre inside the cell and w and h
size it as a fraction of the image (each through a sigmoid, so a box never leaves its range). A cell whose
object probability is over one half says "a shape is here"; its box and likeliest class are the prediction.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .appdata.boxes import FIELDS, SHAPES
from .metrics import outputs

BOX_WEIGHT = 5.0  # the box terms against the object and class ones (YOLO's λ_coord)
FOUND = 0.5  # IoU at which a predicted box counts as finding a true shape
N_FIELDS = len(FIELDS)


def loss(out: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Detection loss of outputs against grid targets, both (B, 5 + classes, G, G), as a tensor of the same
    shape whose elements add up to each image's loss (so `reduction` means what it does for F.mse_loss):

    - every cell: binary cross-entropy of its object logit against whether a shape's centre lies in it;
    - cells with a shape: BOX_WEIGHT × the absolute error of each of the 4 box numbers (after the sigmoid),
      and the cross-entropy of its class logits (written in the first class channel)."""
    obj = target[:, 0]
    per = torch.zeros_like(out)
    per[:, 0] = F.binary_cross_entropy_with_logits(out[:, 0], obj, reduction="none")
    per[:, 1:N_FIELDS] = BOX_WEIGHT * (out[:, 1:N_FIELDS].sigmoid() - target[:, 1:N_FIELDS]).abs() * obj[:, None]
    per[:, N_FIELDS] = F.cross_entropy(out[:, N_FIELDS:], target[:, N_FIELDS:].argmax(1), reduction="none") * obj
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


def decode(grid: torch.Tensor, logits: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Boxes (B, G·G, 4) as x0, y0, x1, y1 fractions of the image, which cells say "a shape" (B, G·G) and their
    classes (B, G·G), from outputs (`logits`: through the sigmoid, an object when its logit > 0) or targets."""
    b, _, g, _ = grid.shape
    v = grid[:, 1:N_FIELDS].sigmoid() if logits else grid[:, 1:N_FIELDS]
    cols = torch.arange(g, device=grid.device, dtype=v.dtype).view(1, 1, g)
    rows = torch.arange(g, device=grid.device, dtype=v.dtype).view(1, g, 1)
    cx, cy = (cols + v[:, 0]) / g, (rows + v[:, 1]) / g
    w, h = v[:, 2], v[:, 3]
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).reshape(b, g * g, 4)
    present = (grid[:, 0] > (0.0 if logits else 0.5)).reshape(b, g * g)
    return boxes, present, grid[:, N_FIELDS:].argmax(1).reshape(b, g * g)


def iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every box in a (B, N, 4) with every box in b (B, M, 4): (B, N, M)."""
    lo = torch.maximum(a[:, :, None, :2], b[:, None, :, :2])
    hi = torch.minimum(a[:, :, None, 2:], b[:, None, :, 2:])
    inter = (hi - lo).clamp_min(0).prod(-1)
    area_a = (a[..., 2:] - a[..., :2]).clamp_min(0).prod(-1)
    area_b = (b[..., 2:] - b[..., :2]).clamp_min(0).prod(-1)
    union = area_a[:, :, None] + area_b[:, None, :] - inter
    return torch.where(union > 0, inter / union.clamp_min(1e-12), torch.zeros_like(inter))


def match(pred: torch.Tensor, pred_on: torch.Tensor, true: torch.Tensor, true_on: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pair predicted boxes with true ones, one to one, the most-overlapping pair first (greedy); a pair needs
    some overlap. Returns for each true box (B, M) the IoU of its pair (0: missed) and its predicted box's
    index (−1: none). Runs on the device without waiting for it (a fixed number of rounds)."""
    ious = iou(pred, true)
    ious = torch.where(pred_on[:, :, None] & true_on[:, None, :], ious, torch.full_like(ious, -1.0))
    b, n, m = ious.shape
    got = torch.zeros(b, m, dtype=ious.dtype, device=ious.device)
    which = torch.full((b, m), -1, dtype=torch.long, device=ious.device)
    rows = torch.arange(b, device=ious.device)
    for _ in range(min(n, m)):
        best, at = ious.reshape(b, -1).max(1)
        p, t = at // m, at % m
        ok = best > 0
        got[rows, t] = torch.where(ok, best, got[rows, t])
        which[rows, t] = torch.where(ok, p, which[rows, t])
        # a paired box leaves the game: its row and column can no longer win
        ious[rows, p, :] = torch.where(ok[:, None], -1.0, ious[rows, p, :])
        ious[rows, :, t] = torch.where(ok[:, None], -1.0, ious[rows, :, t])
    return got, which


def counts(out: torch.Tensor, target: torch.Tensor, loss_type=None) -> torch.Tensor:
    """(5,) sums over a batch: the IoU of each true shape's pair, true shapes, shapes found (IoU ≥ FOUND) with
    the right class, predicted boxes paired with no shape, images (the task's metric keeps these)."""
    pred, pred_on, pred_cls = decode(out)
    true, true_on, true_cls = decode(target, logits=False)
    got, which = match(pred, pred_on, true, true_on)
    cls_of_pair = pred_cls.gather(1, which.clamp_min(0))
    right = true_on & (got >= FOUND) & (cls_of_pair == true_cls)
    paired = (which >= 0).sum()
    return torch.stack([got.sum(), true_on.sum().to(got.dtype), right.sum().to(got.dtype),
                        (pred_on.sum() - paired).to(got.dtype), torch.tensor(float(len(out)), device=got.device)])


def figures(c: torch.Tensor) -> dict[str, float]:
    """Scores from summed `counts`: mean IoU over the true shapes (a missed one counts 0), accuracy (the share of
    true shapes found at IoU ≥ FOUND with the right class), and extra boxes (paired with no shape) per image."""
    iou_sum, n_true, right, extra, images = c.double().tolist()
    return {"mean IoU": iou_sum / n_true if n_true else 1.0, "accuracy": right / n_true if n_true else 1.0,
            "extra boxes per image": extra / images if images else 0.0}


def mean_box_iou(c: torch.Tensor) -> float:
    """The headline score of summed `counts` (the per-epoch metric)."""
    return figures(c)["mean IoU"]


@torch.no_grad()
def evaluate(out: torch.Tensor, target: torch.Tensor, chunk: int = 1024) -> dict[str, float]:
    """`figures` over a whole split of outputs and targets."""
    total = sum(counts(out[i:i + chunk], target[i:i + chunk]) for i in range(0, len(out), chunk))
    return figures(total)


@torch.no_grad()
def image(out: torch.Tensor, target: torch.Tensor) -> dict:
    """One image's boxes for drawing, from its output and target (5 + classes, G, G): the true shapes and the
    net's boxes (x0, y0, x1, y1 fractions), each with its class name, the pairs' IoU and which are missed
    or extra."""
    pred, pred_on, pred_cls = decode(out[None])
    true, true_on, true_cls = decode(target[None], logits=False)
    got, which = match(pred, pred_on, true, true_on)
    score = out[0].sigmoid().reshape(-1)
    names = SHAPES if out.shape[0] - N_FIELDS == len(SHAPES) else [str(k) for k in range(out.shape[0] - N_FIELDS)]
    truths, guesses = [], []
    paired = {}
    for t in torch.nonzero(true_on[0]).flatten().tolist():
        p = int(which[0, t])
        truths.append({"box": true[0, t].tolist(), "class": names[int(true_cls[0, t])], "iou": float(got[0, t]),
                       "found": p >= 0})
        if p >= 0:
            paired[p] = len(truths) - 1
    for p in torch.nonzero(pred_on[0]).flatten().tolist():
        guesses.append({"box": pred[0, p].clamp(0, 1).tolist(), "class": names[int(pred_cls[0, p])],
                        "confidence": float(score[p]), "pairs": paired.get(p),
                        "iou": truths[paired[p]]["iou"] if p in paired else 0.0})
    return {"true": truths, "pred": guesses, "grid": int(out.shape[-1])}


@torch.no_grad()
def report(trainer, k: int = 8) -> dict:
    """End of run: the validation split's figures, and the first `k` images with their true and predicted
    boxes."""
    out = trainer.predict(trainer.data.x_val)
    y = trainer.data.y_val.float()
    return {"kind": "boxes", **evaluate(out, y), "images": trainer.data.x_val[:k].mean(1).numpy(),
            "boxes": [image(out[i], y[i]) for i in range(min(k, len(out)))]}


@torch.no_grad()
def measure(model: torch.nn.Module, ds) -> dict[str, float]:
    """The application's figures (`figures`) of a trained detector on a dataset's validation split."""
    return evaluate(outputs(model, ds.x_val), ds.y_val.float())


@torch.no_grad()
def sample(model: torch.nn.Module, ds, i: int) -> dict:
    """Validation image `i` for the view: the picture (H, W) and its boxes (`image`), and its figures."""
    model.eval()
    x = ds.x_val[i:i + 1]
    out = model(x.to(next(model.parameters()).device)).cpu()[0]
    y = ds.y_val[i].float()
    return {"picture": x[0].mean(0).numpy(), **image(out, y), **figures(counts(out[None], y[None]))}
