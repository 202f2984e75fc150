"""Shape, size and cost arithmetic for CNNs.

* :func:`conv_output_size`: the output-size formula for convolution and pooling;
* :func:`receptive_field`: receptive field size and jump per layer of a chain;
* :func:`receptive_fields`: the same for every layer of any network (branches,
  shortcuts and concatenations included), and :func:`measure_receptive_field`,
  the gradient-based check;
* :func:`count_params`, :func:`count_macs`, :func:`macs_per_module`,
  :func:`neurons`: what a model stores and computes; :func:`grad_norms`;
* :func:`summary`: all of it in one table per layer.
"""

from cnncourse.analysis.costs import count_macs, count_params, grad_norms, macs_per_module, neurons
from cnncourse.analysis.receptive import Field, measure_receptive_field, receptive_fields
from cnncourse.analysis.sizes import conv_output_size, receptive_field
from cnncourse.analysis.summary import Summary, summary

__all__ = [
    "Field", "Summary", "conv_output_size", "count_macs", "count_params", "grad_norms", "macs_per_module",
    "measure_receptive_field", "neurons", "receptive_field", "receptive_fields", "summary",
]
