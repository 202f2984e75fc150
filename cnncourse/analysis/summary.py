"""One table per network: output shapes, parameters, MACs and receptive fields per layer."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import torch
from torch import nn

from cnncourse.analysis.costs import count_params, macs_per_module
from cnncourse.analysis.receptive import receptive_fields


class Summary:
    """A per-layer table: output shape, parameters, MACs and receptive field (size, jump).

    Prints as text and renders as an HTML table in a notebook. ``rows`` holds
    one dict per layer (containers included, indented by ``depth``); ``rf``
    is ``(height, width)`` in input pixels, or ``'global'``.
    """

    COLUMNS = ("layer", "output", "params", "MACs", "RF", "jump")

    def __init__(self, rows, total_params, total_macs, input_size):
        self.rows, self.total_params, self.total_macs, self.input_size = rows, total_params, total_macs, tuple(input_size)

    def _cells(self, row):
        rf = "" if row["rf"] is None else ("global" if row["rf"] == "global" else "x".join(map(str, row["rf"])))
        jump = "" if row["jump"] is None or row["rf"] == "global" else "x".join(map(str, row["jump"]))
        return ("  " * row["depth"] + row["name"], str(row["output"]), f"{row['params']:,}",
                "" if row["macs"] is None else f"{row['macs']:,}", rf, jump)

    def __str__(self):
        table = [self.COLUMNS] + [self._cells(r) for r in self.rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(self.COLUMNS))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in table]
        rule = "-" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:], rule,
                          f"input {self.input_size}: {self.total_params:,} parameters, {self.total_macs:,} MACs"])

    __repr__ = __str__

    def _repr_html_(self):
        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td style='text-align:{'left' if i == 0 else 'right'}'>{escape(c).replace('  ', '&nbsp;&nbsp;')}</td>"
                                        for i, c in enumerate(self._cells(r))) + "</tr>" for r in self.rows)
        foot = f"input {self.input_size}: {self.total_params:,} parameters, {self.total_macs:,} MACs"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{foot}</p>"


def summary(model: nn.Module, input_size: Sequence[int], device=None) -> Summary:
    """Per-layer output shapes and parameters (from torchinfo) with MACs and receptive fields added.

    ``input_size`` is one example's shape, e.g. (3, 224, 224). Receptive
    fields (height x width, in input pixels) and jumps come from
    :func:`~cnncourse.analysis.receptive_fields`, which follows the network's
    actual data flow: shortcuts, branches and concatenations included.
    """
    import torchinfo

    if device is None:
        device = next(model.parameters(), torch.empty(0)).device
    stats = torchinfo.summary(model, input_size=(1, *input_size), verbose=0, device=device, mode="eval")
    macs = macs_per_module(model, input_size, device)
    fields = receptive_fields(model, input_size, device)
    names = {m: name for name, m in model.named_modules()}
    rows = []
    for info in stats.summary_list:
        module = info.module
        field = fields.get(names.get(module)) if info.is_leaf_layer else None
        rows.append({
            "name": info.class_name if info.depth == 0 else f"{info.var_name}: {info.class_name}",
            "depth": info.depth,
            "output": tuple(info.output_size[1:]) if info.output_size else (),
            "params": info.num_params if info.is_leaf_layer or info.depth == 0 else sum(p.numel() for p in module.parameters()),
            "macs": macs.get(module) if info.is_leaf_layer else None,
            "rf": None if field is None else field.size,
            "jump": None if field is None else tuple(field.jump),
        })
    return Summary(rows, count_params(model), sum(macs.values()), input_size)
