"""Utilities for working with pytrees.

A *pytree* is a nested Python structure built out of *container nodes*
(tuples, lists, dicts, ``None``, namedtuples, ``OrderedDict``,
``defaultdict`` and any type registered with :func:`register_pytree_node`)
whose remaining entries are *leaves*.  Anything that is not a registered
node -- NumPy arrays, Python scalars, arbitrary objects -- is a leaf.

Transformations such as ``grad`` or ``jit`` accept and return pytrees: they
*flatten* their arguments into a flat list of leaves plus a
:class:`PyTreeDef` describing the container structure, work on the leaves,
and *unflatten* the results back into the original shape.

>>> leaves, treedef = tree_flatten({'w': 1.0, 'b': (2, None, [3])})
>>> leaves
[2, 3, 1.0]
>>> treedef
PyTreeDef({'b': (*, None, [*]), 'w': *})
>>> tree_unflatten(treedef, [20, 30, 10.0])
{'b': (20, None, [30]), 'w': 10.0}

Conventions (the same as ``jax.tree_util``):

* dict children are ordered by sorted key; unflattening produces a dict
  whose keys are in sorted order.  ``OrderedDict`` keeps insertion order.
* ``None`` is a node with no children, so it contributes no leaves.
* A namedtuple's node type is the namedtuple class itself, so two
  namedtuple classes with the same fields give different structures.
* Subclasses of registered types (other than namedtuples) are leaves unless
  registered themselves.
* ``PyTreeDef`` objects are immutable, hashable and comparable, so they can
  be used as cache keys.  Node auxiliary data must therefore be hashable
  and comparable with ``==``.
"""

from __future__ import annotations

import functools
import operator
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "PyTreeDef",
    "all_leaves",
    "register_pytree_node",
    "register_pytree_node_class",
    "tree_all",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_reduce",
    "tree_structure",
    "tree_transpose",
    "tree_unflatten",
    "treedef_children",
    "treedef_is_leaf",
]


# ---------------------------------------------------------------------------
# Node registry
# ---------------------------------------------------------------------------


class _Leaf:
    """Marker used as the node type of a leaf in a PyTreeDef."""


class _NodeHandler:
    __slots__ = ("flatten", "unflatten")

    def __init__(self, flatten, unflatten):
        # flatten(obj) -> (children_sequence, aux_data)
        # unflatten(aux_data, children_list) -> obj
        self.flatten = flatten
        self.unflatten = unflatten


# Explicitly registered node types (builtins + user registrations).
_registry: dict[type, _NodeHandler] = {}
# Lookup cache: type -> handler, or None when the type is a leaf type.
# Namedtuple classes are resolved lazily into here.  Cleared on registration.
_handler_cache: dict[type, _NodeHandler | None] = {}
_MISSING = object()


def _resolve_handler(t: type) -> _NodeHandler | None:
    """Slow path of the handler lookup; caches its answer."""
    h = _registry.get(t)
    if h is None and issubclass(t, tuple) and hasattr(t, "_fields"):
        h = _NodeHandler(_flatten_sequence, functools.partial(_unflatten_namedtuple, t))
    _handler_cache[t] = h
    return h


def _get_handler(t: type) -> _NodeHandler | None:
    h = _handler_cache.get(t, _MISSING)
    if h is _MISSING:
        h = _resolve_handler(t)
    return h


def _flatten_sequence(x):
    return x, None


def _unflatten_namedtuple(cls, aux, children):
    return cls(*children)


def _sorted_keys(d) -> tuple:
    try:
        return tuple(sorted(d))
    except TypeError as e:
        raise TypeError(
            "pytree dict keys must be sortable (mutually comparable); "
            f"got keys {list(d)!r}"
        ) from e


def _flatten_dict(d):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], keys


def _flatten_ordereddict(d):
    return list(d.values()), tuple(d)


def _flatten_defaultdict(d):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], (d.default_factory, keys)


def _unflatten_defaultdict(aux, children):
    factory, keys = aux
    return defaultdict(factory, zip(keys, children, strict=True))


def _flatten_none(x):
    return (), None


_registry[tuple] = _NodeHandler(_flatten_sequence, lambda aux, ch: tuple(ch))
_registry[list] = _NodeHandler(_flatten_sequence, lambda aux, ch: list(ch))
_registry[dict] = _NodeHandler(
    _flatten_dict, lambda aux, ch: dict(zip(aux, ch, strict=True))
)
_registry[type(None)] = _NodeHandler(_flatten_none, lambda aux, ch: None)
_registry[OrderedDict] = _NodeHandler(
    _flatten_ordereddict, lambda aux, ch: OrderedDict(zip(aux, ch, strict=True))
)
_registry[defaultdict] = _NodeHandler(_flatten_defaultdict, _unflatten_defaultdict)
_BUILTIN_NODE_TYPES = frozenset(_registry)


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Iterable[Any]], Any],
) -> None:
    """Register a type as a pytree node (an internal tree node, not a leaf).

    Only instances whose exact type is ``nodetype`` are treated as nodes;
    subclasses must be registered separately.

    Args:
      nodetype: the Python type to register.
      flatten_func: ``flatten_func(obj) -> (children, aux_data)`` where
        ``children`` is an iterable of child pytrees and ``aux_data`` is
        hashable, ``==``-comparable static data needed to rebuild ``obj``.
      unflatten_func: ``unflatten_func(aux_data, children) -> obj``, where
        ``children`` is a tuple with the same length as produced by
        ``flatten_func``.

    Returns:
      None.

    Raises:
      ValueError: if ``nodetype`` is already registered.
      TypeError: if ``nodetype`` is not a type.

    Example:

    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
    ...                      lambda aux, ch: Pair(*ch))
    >>> tree_leaves([Pair(1, (2, 3)), 4])
    [1, 2, 3, 4]
    """
    if not isinstance(nodetype, type):
        raise TypeError(f"register_pytree_node expects a type, got {nodetype!r}")
    if nodetype in _registry:
        raise ValueError(f"Duplicate pytree node type registration for {nodetype!r}")

    def unflatten(aux, children, _f=unflatten_func):
        return _f(aux, tuple(children))

    _registry[nodetype] = _NodeHandler(flatten_func, unflatten)
    _handler_cache.clear()


def register_pytree_node_class(cls: type) -> type:
    """Class decorator registering ``cls`` as a pytree node.

    The class must define a method ``tree_flatten(self) -> (children, aux)``
    and a classmethod ``tree_unflatten(cls, aux, children) -> instance``.

    Args:
      cls: the class to register.

    Returns:
      ``cls`` itself, so this can be used as a decorator.

    Example:

    >>> @register_pytree_node_class
    ... class Scaled:
    ...     def __init__(self, value, scale):
    ...         self.value, self.scale = value, scale
    ...     def tree_flatten(self):
    ...         return (self.value,), self.scale
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children):
    ...         return cls(children[0], aux)
    >>> leaves, treedef = tree_flatten(Scaled([1.0, 2.0], scale=3))
    >>> leaves
    [1.0, 2.0]
    >>> tree_unflatten(treedef, [5.0, 6.0]).scale
    3
    """
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


# ---------------------------------------------------------------------------
# PyTreeDef
# ---------------------------------------------------------------------------

# A tree structure is stored as a flat pre-order tuple of node records
# ``(node_type, aux_data, num_children)``; leaves are ``(_Leaf, None, 0)``.
# Equality and hashing of PyTreeDefs are then plain tuple equality/hashing.
_LEAF_NODE = (_Leaf, None, 0)


def _aux_equal(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # e.g. arrays: ambiguous truth value
        return False


class PyTreeDef:
    """The structure of a pytree: its container nodes without the leaves.

    Instances are immutable, hashable and compare equal exactly when they
    describe the same structure (same node types, same auxiliary data such
    as dict keys, same arity), so they can be used as cache keys.

    Obtain one with :func:`tree_structure` or :func:`tree_flatten`.

    Example:

    >>> td = tree_structure((1, {'a': 2}))
    >>> td
    PyTreeDef((*, {'a': *}))
    >>> td.num_leaves, td.num_nodes
    (2, 4)
    >>> td == tree_structure(('x', {'a': 'y'}))
    True
    >>> td.unflatten([10, 20])
    (10, {'a': 20})
    """

    __slots__ = ("_hash", "_nodes", "_num_leaves")

    def __init__(self, nodes: tuple, num_leaves: int | None = None):
        self._nodes = nodes
        if num_leaves is None:
            num_leaves = sum(1 for n in nodes if n[0] is _Leaf)
        self._num_leaves = num_leaves
        try:
            self._hash = hash(nodes)
        except TypeError:
            # Unhashable aux data: flattening still works, hashing raises.
            self._hash = None

    # -- basic properties -------------------------------------------------

    @property
    def num_leaves(self) -> int:
        """Number of leaves in the structure."""
        return self._num_leaves

    @property
    def num_nodes(self) -> int:
        """Number of nodes in the structure, counting leaves and ``None``."""
        return len(self._nodes)

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        h1, h2 = self._hash, other._hash
        if h1 is not None and h2 is not None and h1 != h2:
            return False
        return self._nodes == other._nodes

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        if self._hash is None:
            raise TypeError(
                f"unhashable PyTreeDef (node aux data is not hashable): {self!r}"
            )
        return self._hash

    def __reduce__(self):
        # Recompute the hash on unpickling (type hashes differ across processes).
        return (PyTreeDef, (self._nodes, self._num_leaves))

    def __repr__(self):
        return f"PyTreeDef({_node_repr(self._nodes, 0)[0]})"

    # -- structure operations --------------------------------------------

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """Build a pytree with this structure from ``leaves``.

        Args:
          leaves: an iterable with exactly ``num_leaves`` elements.

        Returns:
          The reconstructed pytree.

        Raises:
          ValueError: if the number of leaves is wrong.
        """
        if type(leaves) is not list and type(leaves) is not tuple:
            leaves = list(leaves)
        nodes = self._nodes
        n = self._num_leaves
        if len(leaves) != n:
            raise ValueError(
                f"Wrong number of leaves for {self!r}: expected {n} leaves, "
                f"got {len(leaves)}."
            )
        root = nodes[0][0]
        if root is _Leaf:
            return leaves[0]
        if len(nodes) == n + 1:
            # Only the root is a container: a flat node of leaves.
            if root is tuple:
                return tuple(leaves)
            if root is list:
                return list(leaves)
        stack: list[Any] = []
        push = stack.append
        li = n
        for kind, aux, k in reversed(nodes):
            if kind is _Leaf:
                li -= 1
                push(leaves[li])
                continue
            if k:
                children = stack[: -k - 1 : -1]
                del stack[-k:]
            else:
                children = []
            h = _get_handler(kind)
            if h is None:
                raise TypeError(f"{kind!r} is no longer a registered pytree node type")
            push(h.unflatten(aux, children))
        return stack[0]

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """Flatten ``tree`` down to the leaves of this structure.

        ``tree`` must have this treedef as a prefix of its structure; the
        subtrees of ``tree`` sitting where this structure has leaves are
        returned (unflattened) in leaf order.

        Args:
          tree: a pytree whose structure has this treedef as a prefix.

        Returns:
          A list with ``num_leaves`` subtrees of ``tree``.

        Raises:
          ValueError: if ``tree`` does not match this structure.

        Example:

        >>> tree_structure((1, 2)).flatten_up_to(([1, 2], {'a': 3}))
        [[1, 2], {'a': 3}]
        """
        nodes = self._nodes
        out: list[Any] = []

        def rec(i: int, x: Any) -> int:
            kind, aux, n = nodes[i]
            i += 1
            if kind is _Leaf:
                out.append(x)
                return i
            if type(x) is not kind:
                raise ValueError(
                    f"expected a node of type {_type_name(kind)}, got "
                    f"{_type_name(type(x))}: {x!r}"
                )
            if kind is OrderedDict:
                # Match by key, in this structure's key order.
                if set(aux) != set(x) or len(x) != n:
                    raise ValueError(
                        f"OrderedDict key mismatch: expected keys {list(aux)!r}, "
                        f"got {list(x)!r}"
                    )
                children = [x[k] for k in aux]
            else:
                children, xaux = _get_handler(kind).flatten(x)
                if kind is dict:
                    same = aux == xaux
                elif kind is defaultdict:
                    same = aux[1] == xaux[1]
                else:
                    same = _aux_equal(aux, xaux)
                if not same:
                    what = "key" if kind is dict or kind is defaultdict else "node data"
                    raise ValueError(
                        f"{_type_name(kind)} {what} mismatch: expected {aux!r}, "
                        f"got {xaux!r} in {x!r}"
                    )
                if type(children) is not list and type(children) is not tuple:
                    children = list(children)
                if len(children) != n:
                    raise ValueError(
                        f"{_type_name(kind)} arity mismatch: expected {n} children, "
                        f"got {len(children)} in {x!r}"
                    )
            for c in children:
                i = rec(i, c)
            return i

        rec(0, tree)
        return out

    def children(self) -> list[PyTreeDef]:
        """Return the treedefs of the root node's immediate children.

        Returns:
          A list of :class:`PyTreeDef` (empty for a leaf or ``None``).

        Example:

        >>> tree_structure((1, [2, 3])).children()
        [PyTreeDef(*), PyTreeDef([*, *])]
        """
        nodes = self._nodes
        out = []
        i = 1
        for _ in range(nodes[0][2]):
            start = i
            pending = 1
            while pending:
                pending += nodes[i][2] - 1
                i += 1
            out.append(PyTreeDef(nodes[start:i]))
        return out

    def node_data(self):
        """Return ``(node_type, aux_data)`` of the root, or None for a leaf.

        Example:

        >>> tree_structure({'b': 1, 'a': 2}).node_data()
        (<class 'dict'>, ('a', 'b'))
        """
        kind, aux, _ = self._nodes[0]
        if kind is _Leaf:
            return None
        return kind, aux


def _type_name(t: type) -> str:
    return getattr(t, "__qualname__", None) or repr(t)


def _node_repr(nodes: tuple, i: int) -> tuple[str, int]:
    kind, aux, n = nodes[i]
    i += 1
    if kind is _Leaf:
        return "*", i
    parts = []
    for _ in range(n):
        s, i = _node_repr(nodes, i)
        parts.append(s)
    if kind is tuple:
        return "(" + ", ".join(parts) + ("," if n == 1 else "") + ")", i
    if kind is list:
        return "[" + ", ".join(parts) + "]", i
    if kind is dict:
        body = ", ".join(f"{k!r}: {p}" for k, p in zip(aux, parts, strict=True))
        return "{" + body + "}", i
    if kind is type(None):
        return "None", i
    if kind is OrderedDict:
        body = ", ".join(f"{k!r}: {p}" for k, p in zip(aux, parts, strict=True))
        return "OrderedDict({" + body + "})", i
    if kind is defaultdict:
        factory, keys = aux
        fname = getattr(factory, "__qualname__", None) or repr(factory)
        body = ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts, strict=True))
        return f"defaultdict({fname}, {{{body}}})", i
    fields = getattr(kind, "_fields", None)
    if (
        kind not in _registry
        and issubclass(kind, tuple)
        and fields is not None
        and len(fields) == n
    ):
        body = ", ".join(f"{f}={p}" for f, p in zip(fields, parts, strict=True))
        return f"{kind.__name__}({body})", i
    return f"CustomNode({_type_name(kind)}[{aux!r}], [{', '.join(parts)}])", i


_LEAF_TREEDEF = PyTreeDef((_LEAF_NODE,), 1)
_flat_treedef_cache: dict[tuple[type, int], PyTreeDef] = {}


def _flat_treedef(t: type, n: int) -> PyTreeDef:
    td = _flat_treedef_cache.get((t, n))
    if td is None:
        td = PyTreeDef(((t, None, n),) + (_LEAF_NODE,) * n, n)
        if n <= 256:
            _flat_treedef_cache[(t, n)] = td
    return td


# ---------------------------------------------------------------------------
# Flattening
# ---------------------------------------------------------------------------


def _flatten_into(x, is_leaf, leaves: list, nodes: list) -> None:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        nodes.append(_LEAF_NODE)
        return
    t = type(x)
    h = _handler_cache.get(t, _MISSING)
    if h is _MISSING:
        h = _resolve_handler(t)
    if h is None:
        leaves.append(x)
        nodes.append(_LEAF_NODE)
        return
    children, aux = h.flatten(x)
    if type(children) is not tuple and type(children) is not list:
        children = list(children)
    nodes.append((t, aux, len(children)))
    for c in children:
        _flatten_into(c, is_leaf, leaves, nodes)


def tree_flatten(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> tuple[list[Any], PyTreeDef]:
    """Flatten a pytree into a list of leaves and a structure.

    Args:
      tree: the pytree to flatten.
      is_leaf: optional predicate; a subtree ``x`` with ``is_leaf(x)`` true
        is treated as a leaf and not traversed further.

    Returns:
      A pair ``(leaves, treedef)``: the leaves in depth-first order (dict
      entries by sorted key) and a :class:`PyTreeDef` for
      :func:`tree_unflatten`.

    Example:

    >>> leaves, treedef = tree_flatten([1, (2, 3), None])
    >>> leaves
    [1, 2, 3]
    >>> treedef
    PyTreeDef([*, (*, *), None])
    >>> tree_flatten([1, (2, 3)], is_leaf=lambda x: isinstance(x, tuple))[0]
    [1, (2, 3)]
    """
    if is_leaf is None:
        t = type(tree)
        h = _handler_cache.get(t, _MISSING)
        if h is _MISSING:
            h = _resolve_handler(t)
        if h is None:
            return [tree], _LEAF_TREEDEF
        if t is tuple or t is list:
            get = _handler_cache.get
            for c in tree:
                hc = get(type(c), _MISSING)
                if hc is _MISSING:
                    hc = _resolve_handler(type(c))
                if hc is not None:
                    break
            else:
                return list(tree), _flat_treedef(t, len(tree))
    leaves: list[Any] = []
    nodes: list[tuple] = []
    _flatten_into(tree, is_leaf, leaves, nodes)
    return leaves, PyTreeDef(tuple(nodes), len(leaves))


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Reconstruct a pytree from its structure and leaves.

    Args:
      treedef: the structure, as returned by :func:`tree_flatten` or
        :func:`tree_structure`.
      leaves: an iterable with exactly ``treedef.num_leaves`` elements.

    Returns:
      The pytree with structure ``treedef`` and the given leaves.

    Raises:
      ValueError: if the number of leaves does not match.

    Example:

    >>> treedef = tree_structure({'a': 0, 'b': (0, 0)})
    >>> tree_unflatten(treedef, [1, 2, 3])
    {'a': 1, 'b': (2, 3)}
    """
    if not isinstance(treedef, PyTreeDef):
        raise TypeError(
            f"tree_unflatten expects a PyTreeDef, got {type(treedef).__name__}"
        )
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """Return the leaves of a pytree as a list.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      The list of leaves, in the order used by :func:`tree_flatten`.

    Example:

    >>> tree_leaves({'b': [2, 3], 'a': 1, 'c': None})
    [1, 2, 3]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(
    tree: Any, is_leaf: Callable[[Any], bool] | None = None
) -> PyTreeDef:
    """Return the :class:`PyTreeDef` describing the structure of a pytree.

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      The structure of ``tree``.

    Example:

    >>> tree_structure((1.0, [2, 3]))
    PyTreeDef((*, [*, *]))
    >>> tree_structure(5)
    PyTreeDef(*)
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(
    f: Callable[..., Any],
    tree: Any,
    *rest: Any,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Apply ``f`` to corresponding leaves of one or more pytrees.

    Args:
      f: function taking ``1 + len(rest)`` arguments.
      tree: the pytree whose structure determines the result structure.
      *rest: further pytrees; each must have the structure of ``tree`` as a
        prefix, and the subtrees at ``tree``'s leaf positions are passed to
        ``f`` as the extra arguments.
      is_leaf: optional predicate marking subtrees of ``tree`` to treat as
        leaves.

    Returns:
      A pytree with the structure of ``tree`` whose leaves are
      ``f(x, *xs)`` for corresponding leaves.

    Raises:
      ValueError: if a tree in ``rest`` does not match the structure.

    Example:

    >>> tree_map(lambda x: x * 2, {'a': 1, 'b': (2, None)})
    {'a': 2, 'b': (4, None)}
    >>> tree_map(lambda x, y: x + y, [1, 2], [10, 20])
    [11, 22]
    >>> tree_map(lambda x, y: (x, y), [1, 2], [(3, 4), {'k': 5}])
    [(1, (3, 4)), (2, {'k': 5})]
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    if not rest:
        return treedef.unflatten([f(x) for x in leaves])
    all_leaves = [leaves]
    for i, r in enumerate(rest):
        try:
            all_leaves.append(treedef.flatten_up_to(r))
        except ValueError as e:
            try:
                other = repr(tree_structure(r))
            except (TypeError, ValueError):  # e.g. unsortable dict keys
                other = f"<unflattenable {type(r).__name__}>"
            raise ValueError(
                "tree_map: structure mismatch between the first tree and tree "
                f"#{i + 1} of rest: the first tree has structure {treedef!r} but "
                f"tree #{i + 1} has structure {other}, which does not have it as a "
                f"prefix ({e}). Pass trees of matching structure, or use is_leaf to "
                "stop flattening the first tree higher up."
            ) from None
    return treedef.unflatten([f(*xs) for xs in zip(*all_leaves, strict=True)])


# ---------------------------------------------------------------------------
# Misc helpers
# ---------------------------------------------------------------------------


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """Return the treedefs of the immediate children of the root node.

    Args:
      treedef: a :class:`PyTreeDef`.

    Returns:
      A list of :class:`PyTreeDef`, empty for a leaf or a childless node.

    Example:

    >>> treedef_children(tree_structure({'a': (1, 2), 'b': 3}))
    [PyTreeDef((*, *)), PyTreeDef(*)]
    """
    return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    """Return True if ``treedef`` is the structure of a single leaf.

    Unlike ``jax.tree_util.treedef_is_leaf`` (which tests
    ``num_nodes == 1``), childless nodes such as ``None`` or ``()`` are
    *not* leaves here.

    Args:
      treedef: a :class:`PyTreeDef`.

    Returns:
      Whether the structure is a single leaf.

    Example:

    >>> treedef_is_leaf(tree_structure(1.0))
    True
    >>> treedef_is_leaf(tree_structure([1.0]))
    False
    """
    return treedef._nodes[0][0] is _Leaf


def all_leaves(
    iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None
) -> bool:
    """Return True if every element of ``iterable`` is a leaf.

    Args:
      iterable: an iterable of objects to test.
      is_leaf: optional predicate; elements for which it returns True count
        as leaves.

    Returns:
      Whether each element is a pytree leaf (``None`` is a node, not a leaf).

    Example:

    >>> all_leaves([1, 2.0, 'x'])
    True
    >>> all_leaves([1, (2,)])
    False
    """
    for x in iterable:
        if is_leaf is not None and is_leaf(x):
            continue
        if _get_handler(type(x)) is not None:
            return False
    return True


def tree_all(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Return True if all leaves of ``tree`` are truthy (True if none).

    Args:
      tree: the pytree.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      ``all(tree_leaves(tree))``.

    Example:

    >>> tree_all({'a': True, 'b': [1, 2]})
    True
    >>> tree_all((True, 0))
    False
    """
    return all(tree_leaves(tree, is_leaf))


_NO_INITIALIZER = object()


def tree_reduce(
    function: Callable[[Any, Any], Any],
    tree: Any,
    initializer: Any = _NO_INITIALIZER,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Reduce the leaves of a pytree with a binary function.

    Args:
      function: ``function(accumulated, leaf) -> accumulated``.
      tree: the pytree.
      initializer: optional initial value; without it the first leaf is
        used, and an empty tree raises ``TypeError``.
      is_leaf: optional predicate marking subtrees to treat as leaves.

    Returns:
      ``functools.reduce(function, tree_leaves(tree), initializer)``.

    Example:

    >>> import operator
    >>> tree_reduce(operator.add, {'a': 1, 'b': (2, 3)})
    6
    >>> tree_reduce(operator.add, [], initializer=10)
    10
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_transpose(
    outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None, pytree_to_transpose: Any
) -> Any:
    """Turn a tree of trees inside out.

    ``pytree_to_transpose`` has structure ``outer_treedef`` whose every leaf
    is a subtree with structure ``inner_treedef``; the result has structure
    ``inner_treedef`` whose leaves are trees with structure
    ``outer_treedef``.

    Args:
      outer_treedef: the outer structure.
      inner_treedef: the inner structure, or None to infer it from the first
        outer leaf.
      pytree_to_transpose: the tree to transpose.

    Returns:
      The transposed pytree.

    Raises:
      ValueError: if the tree does not have the stated structure.

    Example:

    >>> outer = tree_structure([0, 0])
    >>> inner = tree_structure({'a': 0, 'b': 0})
    >>> tree_transpose(outer, inner, [{'a': 1, 'b': 2}, {'a': 3, 'b': 4}])
    {'a': [1, 3], 'b': [2, 4]}
    """
    outer_leaves = outer_treedef.flatten_up_to(pytree_to_transpose)
    if inner_treedef is None:
        if not outer_leaves:
            raise ValueError(
                "tree_transpose: cannot infer inner_treedef from an empty tree; "
                "pass inner_treedef explicitly"
            )
        inner_treedef = tree_structure(outer_leaves[0])
    rows = []
    for sub in outer_leaves:
        leaves, td = tree_flatten(sub)
        if td != inner_treedef:
            raise ValueError(
                f"tree_transpose: expected inner structure {inner_treedef!r}, "
                f"got {td!r}"
            )
        rows.append(leaves)
    columns = zip(*rows, strict=True) if rows else [[]] * inner_treedef.num_leaves
    return inner_treedef.unflatten([outer_treedef.unflatten(col) for col in columns])
