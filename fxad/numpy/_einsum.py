"""``einsum`` as a chain of ``dot_general`` contractions.

The subscripts are parsed into one list of labels per operand (letters, and
integers for the axes an ellipsis stands for).  Each operand is then
simplified on its own: repeated labels become a diagonal (one gather), and
labels that no other operand and not the output use are summed away.  The
operands are contracted two at a time, each pair as one ``lax.dot_general``
whose batch dimensions are the labels both share and still need, and whose
contracting dimensions are the labels both share and nothing else needs.
The order is greedy (the pair whose result is smallest relative to its
inputs first) unless ``optimize=False``, which contracts left to right, or
``optimize`` is an explicit path as ``numpy.einsum_path`` gives.
A final transpose puts the labels in output order.
"""

from __future__ import annotations

import numpy as np

from fxad import lax
from fxad.core import Tracer
from fxad.numpy._indexing import getitem
from fxad.numpy._util import any_tracer, convert, shape_of

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize=False):
    """Differentiable ``numpy.einsum``.

    NumPy's subscripts syntax: explicit (``'ij,jk->ik'``) or implicit output
    (``'ij,jk'``: the labels used once, in alphabetical order), ellipsis
    (``'...ij->...ji'``), repeated labels within an operand for diagonals
    (``'ii->i'``, ``'ii'``), broadcasting of size-1 axes, and the interleaved
    form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.  Without tracers this is
    ``numpy.einsum`` itself.

    Args:
        subscripts: the subscripts string (or the first operand of the
            interleaved form).
        *operands: the arrays.
        dtype: compute in this dtype instead of the operands' common one
            (the operands must cast to it under ``casting``, as in NumPy).
        order: memory layout of the eager result (ignored when traced).
        casting: NumPy's casting rule for ``dtype`` (default ``'safe'``).
        optimize: ``False`` contracts left to right; a NumPy path
            (``['einsum_path', (1, 2), (0, 1)]``, as ``numpy.einsum_path``
            returns) is followed; anything else (``True``, ``'greedy'``,
            ``'optimal'``) picks a greedy order that keeps intermediates small.

    Returns:
        The contraction, as ``numpy.einsum`` computes it.

    Example:
        >>> import fxad, fxad.numpy as fnp, numpy as np
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> fnp.einsum("ij,j->i", A, np.ones(2))
        array([3., 7.])
        >>> fxad.grad(lambda x: fnp.einsum("i,ij,j", x, A, x))(np.ones(2))
        array([ 7., 13.])
    """
    if out is not None:
        raise TypeError("fxad.numpy functions do not support out=: arrays are immutable")
    if not isinstance(subscripts, str):
        subscripts, operands = _from_interleaved(subscripts, *operands)
    if not any_tracer(*operands):
        return np.einsum(subscripts, *operands, dtype=dtype, order=order, casting=casting,
                         optimize=optimize)
    operands = [x if isinstance(x, Tracer) else np.asarray(x) for x in operands]
    shapes = [shape_of(x) for x in operands]
    in_labels, out_labels = _parse(subscripts, shapes)
    # Operands are strongly typed here, as ``numpy.einsum`` makes them arrays.
    dtypes = [x.aval.dtype if isinstance(x, Tracer) else x.dtype for x in operands]
    dt = np.result_type(*dtypes) if dtype is None else np.dtype(dtype)
    for k, d in enumerate(dtypes):
        if not np.can_cast(d, dt, casting):
            raise TypeError(f"einsum: operand {k} of dtype {d.name} cannot be cast to "
                            f"{dt.name} according to the rule {casting!r}")
    operands = [convert(x, dt) for x in operands]
    terms = [_take_diagonals(x, labels) for x, labels in zip(operands, in_labels)]
    sizes = _label_sizes([t[1] for t in terms], [shape_of(t[0]) for t in terms])
    terms = [_drop_broadcast_axes(x, labels, sizes) for x, labels in terms]
    if isinstance(optimize, (list, tuple)) and optimize and optimize[0] == "einsum_path":
        # NumPy's explicit path: each step contracts the listed operands and
        # appends the result to the end of the list.
        for step in optimize[1:]:
            picked = [terms[k] for k in step]
            rest = [t for k, t in enumerate(terms) if k not in step]
            term = picked[0]
            for k, other in enumerate(picked[1:], 2):
                term = _contract(term, other, picked[k:] + rest, out_labels)
            terms = rest + [term]
    while len(terms) > 1:
        i, j = (0, 1) if optimize is False else _pick_pair(terms, out_labels, sizes)
        rest = [t for k, t in enumerate(terms) if k not in (i, j)]
        terms = [_contract(terms[i], terms[j], rest, out_labels)] + rest
    x, labels = _sum_unused(*terms[0], [], out_labels)
    return lax.transpose(x, tuple(labels.index(lab) for lab in out_labels))


# ---------------------------------------------------------------------------
# Parsing


def _from_interleaved(first, *rest):
    """``einsum(a, sub_a, b, sub_b, ..., [sub_out])`` as a subscripts string."""
    args = [first, *rest]
    ops, subs = args[0::2], args[1::2]
    out = None
    if len(ops) > len(subs):  # an odd count: the last item is the output
        out = ops.pop()

    def to_str(sub):
        s = []
        for lab in sub:
            if lab is Ellipsis:
                s.append("...")
            elif isinstance(lab, (int, np.integer)) and 0 <= lab < len(_LETTERS):
                s.append(_LETTERS[int(lab)])
            else:
                raise ValueError(f"einsum: subscript {lab!r} must be an int in [0, 52) or "
                                 "Ellipsis")
        return "".join(s)

    spec = ",".join(to_str(s) for s in subs)
    if out is not None:
        spec += "->" + to_str(out)
    return spec, tuple(ops)


def _split_labels(term, ndim, n_ell, where):
    """The labels of one term: letters as themselves, ellipsis axes as ints
    (right-aligned: the last ellipsis axis of every operand is ``n_ell - 1``)."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise ValueError(f"einsum: invalid ellipsis in {where} subscripts {term!r}")
    for c in term.replace("...", ""):
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {where}; use letters a-z, A-Z")
    if "..." not in term:
        return list(term)
    head, tail = term.split("...")
    k = ndim - len(head) - len(tail) if ndim is not None else n_ell
    if k < 0:
        raise ValueError(f"einsum: {where} has more subscripts than dimensions")
    return list(head) + list(range(n_ell - k, n_ell)) + list(tail)


def _parse(subscripts, shapes):
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise ValueError("einsum: subscripts may contain '->' only once")
    if "->" in spec:
        ins, out = spec.split("->")
    else:
        ins, out = spec, None
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    n_ell = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(s) - (len(t) - 3))
    in_labels = []
    for k, (t, s) in enumerate(zip(terms, shapes)):
        labels = _split_labels(t, len(s), n_ell, f"operand {k}")
        if len(labels) != len(s):
            raise ValueError(f"einsum: operand {k} has {len(s)} dimensions but subscripts "
                             f"{t!r} name {len(labels)}")
        in_labels.append(labels)
    if out is None:
        letters = [c for labels in in_labels for c in labels if isinstance(c, str)]
        out_labels = list(range(n_ell)) + sorted(c for c in set(letters)
                                                if letters.count(c) == 1)
    else:
        if n_ell and "..." not in out:
            raise ValueError("einsum: the operands have broadcast ('...') dimensions, so the "
                             "output subscripts must contain '...' too")
        out_labels = _split_labels(out, None, n_ell, "output")
        seen = set()
        for c in out_labels:
            if c in seen:
                raise ValueError(f"einsum: output subscript {c!r} appears more than once")
            seen.add(c)
            if not any(c in labels for labels in in_labels):
                raise ValueError(f"einsum: output subscript {c!r} does not appear in the "
                                 "operands")
    return in_labels, out_labels


def _label_sizes(in_labels, shapes):
    sizes: dict = {}
    for labels, shape in zip(in_labels, shapes):
        for c, n in zip(labels, shape):
            m = sizes.get(c, 1)
            if n != 1 and m != 1 and n != m:
                raise ValueError(f"einsum: size {n} of label {_name(c)} does not match {m} "
                                 "elsewhere (operands cannot be broadcast together)")
            sizes[c] = n if m == 1 else m
    return sizes


def _name(c):
    return repr(c) if isinstance(c, str) else "'...'"


# ---------------------------------------------------------------------------
# Single-operand simplifications


def _drop_broadcast_axes(x, labels, sizes):
    """Squeeze size-1 axes whose label is larger elsewhere (broadcasting)."""
    drop = tuple(i for i, c in enumerate(labels) if shape_of(x)[i] == 1 and sizes[c] != 1)
    if not drop:
        return x, list(labels)
    x = lax.squeeze(x, drop) if isinstance(x, Tracer) else np.squeeze(x, drop)
    return x, [c for i, c in enumerate(labels) if i not in drop]


def _take_diagonals(x, labels):
    """Replace every label repeated within one operand by its diagonal."""
    while True:
        rep = next((c for c in labels if labels.count(c) > 1), None)
        if rep is None:
            return x, labels
        pos = [i for i, c in enumerate(labels) if c == rep]
        shape = shape_of(x)
        n = shape[pos[0]]
        if any(shape[p] != n for p in pos):
            raise ValueError(f"einsum: dimensions for the repeated subscript {_name(rep)} "
                             f"differ: {[shape[p] for p in pos]}")
        keep = [i for i in range(len(labels)) if i not in pos]
        x = lax.transpose(x, tuple(keep + pos)) if isinstance(x, Tracer) else \
            np.transpose(x, keep + pos)
        ar = np.arange(n)
        idx = (Ellipsis,) + (ar,) * len(pos)
        x = getitem(x, idx) if isinstance(x, Tracer) else x[idx]
        labels = [labels[i] for i in keep] + [rep]


def _sum_unused(x, labels, others, out_labels):
    """Sum over the labels of ``x`` that no other operand and not the output use."""
    needed = set(out_labels)
    for _, ls in others:
        needed.update(ls)
    axes = tuple(i for i, c in enumerate(labels) if c not in needed)
    if not axes:
        return x, labels
    x = lax.reduce_sum(x, axes) if isinstance(x, Tracer) else np.sum(x, axis=axes)
    return x, [c for i, c in enumerate(labels) if i not in axes]


# ---------------------------------------------------------------------------
# Pairwise contraction


def _contract(a, b, rest, out_labels):
    (x, lx), (y, ly) = a, b
    x, lx = _sum_unused(x, lx, [b, *rest], out_labels)
    y, ly = _sum_unused(y, ly, [(x, lx), *rest], out_labels)
    needed = set(out_labels)
    for _, ls in rest:
        needed.update(ls)
    shared = [c for c in lx if c in ly]
    batch = [c for c in shared if c in needed]
    contract = [c for c in shared if c not in needed]
    dims = (((tuple(lx.index(c) for c in contract), tuple(ly.index(c) for c in contract)),
             (tuple(lx.index(c) for c in batch), tuple(ly.index(c) for c in batch))))
    out = lax.dot_general(x, y, dims)
    labels = batch + [c for c in lx if c not in shared] + [c for c in ly if c not in shared]
    return out, labels


def _pick_pair(terms, out_labels, sizes):
    """The pair whose contraction shrinks the total size most (leftmost on ties)."""

    def size(labels):
        n = 1
        for c in labels:
            n *= sizes[c]
        return n

    best = None
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            li, lj = terms[i][1], terms[j][1]
            needed = set(out_labels)
            for k, (_, ls) in enumerate(terms):
                if k not in (i, j):
                    needed.update(ls)
            result = [c for c in dict.fromkeys(li + lj) if c in needed]
            cost = size(result) - size(li) - size(lj)
            if best is None or cost < best[0]:
                best = (cost, i, j)
    return best[1], best[2]
