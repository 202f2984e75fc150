"""Exercises for the chapter *Retrieval: what makes a unit fire*.

Grade them with ``make grade`` (or ``pytest tests/grading -k retrieval --impl=exercises``).
"""

import torch


def seen_by(start, end, jump, index, size):
    """The input pixels unit ``index`` of a layer sees along one axis: (first, last + 1).

    Unit 0 sees the pixels ``start <= p < end`` (``start`` may be negative
    and ``end`` beyond the image: the field overhangs into the padding);
    neighbouring units are ``jump`` pixels apart. Clip the interval to an
    image of ``size`` pixels (0 .. size - 1) and return it as two ints.

    Hint: shift both ends by index * jump, then clip with max and min.
    """
    ### BEGIN SOLUTION
    first = start + index * jump
    last = end + index * jump
    return max(0, int(first)), min(size, int(last))
    ### END SOLUTION


def precision_at_k(queries, query_labels, gallery, gallery_labels, k):
    """Retrieval quality: the share of each query's k nearest gallery items with the query's label.

    ``queries`` (Nq, D) and ``gallery`` (Ng, D) are feature vectors;
    neighbours are the k gallery rows with the largest *cosine* similarity
    to the query. Return the mean, over all queries and their k neighbours,
    of (neighbour's label == query's label), as a float.

    Hint: normalise the rows (torch.nn.functional.normalize), one matrix
    product gives every similarity, then topk along the gallery axis.
    """
    ### BEGIN SOLUTION
    q = torch.nn.functional.normalize(queries.float(), dim=1)
    g = torch.nn.functional.normalize(gallery.float(), dim=1)
    neighbours = (q @ g.T).topk(k, dim=1).indices  # (Nq, k)
    return (gallery_labels[neighbours] == query_labels[:, None]).float().mean().item()
    ### END SOLUTION
