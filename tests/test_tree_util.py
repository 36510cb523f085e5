"""Tests for fxad.tree_util."""

import copy
import doctest
import operator
import pickle
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fxad.tree_util
from fxad import tree_util as tu
from fxad.tree_util import (
    PyTreeDef,
    all_leaves,
    register_pytree_node,
    register_pytree_node_class,
    tree_all,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_reduce,
    tree_structure,
    tree_transpose,
    tree_unflatten,
    treedef_children,
    treedef_is_leaf,
)

Point = namedtuple("Point", ["x", "y"])
OtherPoint = namedtuple("OtherPoint", ["x", "y"])


class Box:
    """Registered through register_pytree_node; aux = name."""

    def __init__(self, name, a, b):
        self.name, self.a, self.b = name, a, b

    def __eq__(self, other):
        return (
            type(other) is Box
            and self.name == other.name
            and self.a == other.a
            and self.b == other.b
        )

    def __repr__(self):
        return f"Box({self.name!r}, {self.a!r}, {self.b!r})"


register_pytree_node(
    Box, lambda x: ((x.a, x.b), x.name), lambda name, ch: Box(name, *ch)
)


@register_pytree_node_class
class Params:
    """Registered through register_pytree_node_class; aux = tag."""

    def __init__(self, w, b, tag="p"):
        self.w, self.b, self.tag = w, b, tag

    def tree_flatten(self):
        return [self.w, self.b], self.tag

    @classmethod
    def tree_unflatten(cls, aux, children):
        w, b = children
        return cls(w, b, aux)

    def __eq__(self, other):
        return (
            type(other) is Params
            and self.w == other.w
            and self.b == other.b
            and self.tag == other.tag
        )


class Opaque:
    """Unregistered: a leaf."""


def roundtrip(tree):
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, leaves)


# ---------------------------------------------------------------------------
# Flatten / unflatten
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "expected_leaves"),
    [
        (1, [1]),
        (1.5, [1.5]),
        ("s", ["s"]),
        ((), []),
        ([], []),
        ({}, []),
        (None, []),
        ((1, 2, 3), [1, 2, 3]),
        ([1, [2, [3, (4,)]]], [1, 2, 3, 4]),
        ({"b": 2, "a": 1, "c": [3, 4]}, [1, 2, 3, 4]),
        ((None, 1, [None, 2]), [1, 2]),
        (Point(1, (2, 3)), [1, 2, 3]),
        (OrderedDict([("b", 1), ("a", 2)]), [1, 2]),
        (defaultdict(list, {"b": 1, "a": 2}), [2, 1]),
        (Box("n", 1, [2, 3]), [1, 2, 3]),
        (Params(1.0, (2.0,), tag="t"), [1.0, 2.0]),
        ({"x": Point(Box("k", 1, None), Params(2, 3)), "y": ()}, [1, 2, 3]),
    ],
)
def test_flatten_leaves_and_roundtrip(tree, expected_leaves):
    leaves, treedef = tree_flatten(tree)
    assert leaves == expected_leaves
    assert treedef.num_leaves == len(expected_leaves)
    out = tree_unflatten(treedef, leaves)
    assert out == tree
    assert type(out) is type(tree)
    assert tree_structure(out) == treedef


def test_dict_sorted_keys_and_unflatten_order():
    tree = {"b": 2, "a": 1, "c": 3}
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1, 2, 3]
    out = tree_unflatten(treedef, [10, 20, 30])
    assert out == {"a": 10, "b": 20, "c": 30}
    assert list(out) == ["a", "b", "c"]
    # Insertion order is irrelevant for dicts.
    assert tree_structure({"a": 0, "b": 0}) == tree_structure({"b": 0, "a": 0})


def test_ordereddict_keeps_insertion_order():
    od = OrderedDict([("z", 1), ("a", 2)])
    leaves, treedef = tree_flatten(od)
    assert leaves == [1, 2]
    out = tree_unflatten(treedef, [3, 4])
    assert type(out) is OrderedDict
    assert list(out.items()) == [("z", 3), ("a", 4)]
    assert treedef != tree_structure(OrderedDict([("a", 2), ("z", 1)]))
    assert treedef != tree_structure({"z": 1, "a": 2})


def test_defaultdict_keeps_factory():
    dd = defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree_flatten(dd)
    assert leaves == [2, 1]
    out = tree_unflatten(treedef, [5, 6])
    assert type(out) is defaultdict
    assert out.default_factory is list
    assert dict(out) == {"a": 5, "b": 6}
    assert treedef != tree_structure(defaultdict(set, {"b": 1, "a": 2}))
    assert treedef != tree_structure({"b": 1, "a": 2})


def test_none_is_empty_node():
    leaves, treedef = tree_flatten(None)
    assert leaves == []
    assert treedef.num_leaves == 0
    assert treedef.num_nodes == 1
    assert tree_unflatten(treedef, []) is None
    assert treedef != tree_structure(())
    assert tree_leaves([None, 1, {"a": None}]) == [1]


def test_namedtuple_roundtrip_and_type():
    p = Point(x=np.float64(1.0), y=[2, 3])
    leaves, treedef = tree_flatten(p)
    assert leaves == [1.0, 2, 3]
    out = tree_unflatten(treedef, [4, 5, 6])
    assert type(out) is Point
    assert out == Point(4, [5, 6])
    # Same fields, different class -> different structure; tuple too.
    assert tree_structure(Point(1, 2)) != tree_structure(OtherPoint(1, 2))
    assert tree_structure(Point(1, 2)) != tree_structure((1, 2))


def test_leaves_are_not_traversed():
    arr = np.arange(6.0).reshape(2, 3)
    obj = Opaque()
    leaves, treedef = tree_flatten([arr, obj, 3, 2.5, "s", b"b", 1j])
    assert leaves[0] is arr
    assert leaves[1] is obj
    assert leaves[2:] == [3, 2.5, "s", b"b", 1j]
    assert treedef.num_leaves == 7


def test_subclasses_of_builtin_nodes_are_leaves():
    class MyDict(dict):
        pass

    class MyList(list):
        pass

    d = MyDict(a=1)
    lst = MyList([1, 2])
    assert tree_leaves([d, lst]) == [d, lst]


def test_is_leaf():
    tree = {"a": (1, 2), "b": [(3, 4), 5]}
    leaves = tree_leaves(tree, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), (3, 4), 5]
    leaves, treedef = tree_flatten(tree, is_leaf=lambda x: isinstance(x, tuple))
    assert treedef.num_leaves == 3
    assert tree_unflatten(treedef, leaves) == tree
    # is_leaf on the root makes the whole tree a single leaf.
    leaves, treedef = tree_flatten(tree, is_leaf=lambda x: isinstance(x, dict))
    assert leaves == [tree]
    assert treedef_is_leaf(treedef)
    # is_leaf can turn None into a leaf.
    assert tree_leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]


def test_custom_children_iterable_and_tuple_passed_to_unflatten():
    seen = []

    class Gen:
        def __init__(self, items):
            self.items = items

    def unflatten(aux, children):
        seen.append(type(children))
        return Gen(list(children))

    register_pytree_node(Gen, lambda g: (iter(g.items), None), unflatten)
    leaves, treedef = tree_flatten(Gen([1, (2, 3)]))
    assert leaves == [1, 2, 3]
    out = tree_unflatten(treedef, [4, 5, 6])
    assert out.items == [4, (5, 6)]
    assert seen == [tuple]


def test_register_twice_raises():
    class Twice:
        pass

    register_pytree_node(Twice, lambda x: ((), None), lambda aux, ch: Twice())
    with pytest.raises(ValueError, match="Duplicate"):
        register_pytree_node(Twice, lambda x: ((), None), lambda aux, ch: Twice())
    with pytest.raises(ValueError, match="Duplicate"):
        register_pytree_node(tuple, lambda x: (x, None), lambda aux, ch: tuple(ch))
    with pytest.raises(ValueError, match="Duplicate"):
        register_pytree_node_class(Params)


def test_registration_after_use_as_leaf():
    class Late:
        def __init__(self, v):
            self.v = v

    x = Late(1)
    assert tree_leaves([x]) == [x]
    register_pytree_node(Late, lambda o: ((o.v,), None), lambda aux, ch: Late(*ch))
    assert tree_leaves([x]) == [1]


def test_register_pytree_node_class_returns_cls():
    class C:
        def __init__(self, a):
            self.a = a

        def tree_flatten(self):
            return (self.a,), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    assert register_pytree_node_class(C) is C
    out = tree_map(lambda v: v + 1, C({"k": 1}))
    assert type(out) is C
    assert out.a == {"k": 2}


def test_unsortable_dict_keys_raise():
    with pytest.raises(TypeError, match="sortable"):
        tree_flatten({1: "a", "b": 2})


def test_flat_fast_path_returns_fresh_list():
    lst = [1, 2, 3]
    leaves, treedef = tree_flatten(lst)
    assert leaves == lst
    assert leaves is not lst
    out = tree_unflatten(treedef, leaves)
    assert out == lst
    assert out is not leaves
    assert tree_structure((1, 2)) == tree_structure(("a", "b"))
    assert tree_structure((1, 2)) != tree_structure([1, 2])
    assert tree_structure((1, 2)) != tree_structure((1, 2, 3))


def test_unflatten_accepts_iterables():
    treedef = tree_structure({"a": 0, "b": [0, 0]})
    assert tree_unflatten(treedef, iter([1, 2, 3])) == {"a": 1, "b": [2, 3]}
    assert tree_unflatten(treedef, (1, 2, 3)) == {"a": 1, "b": [2, 3]}
    assert tree_unflatten(tree_structure(7), [8]) == 8


@pytest.mark.parametrize(
    ("tree", "given_leaves"),
    [
        ((1, 2), [1]),
        ((1, 2), [1, 2, 3]),
        ({"a": [1, (2, 3)]}, []),
        (5, []),
        (5, [1, 2]),
        (None, [1]),
    ],
)
def test_unflatten_wrong_leaf_count_raises(tree, given_leaves):
    treedef = tree_structure(tree)
    with pytest.raises(ValueError, match="Wrong number of leaves") as info:
        tree_unflatten(treedef, given_leaves)
    msg = str(info.value)
    assert f"expected {treedef.num_leaves}" in msg
    assert f"got {len(given_leaves)}" in msg


def test_unflatten_requires_treedef():
    with pytest.raises(TypeError):
        tree_unflatten((1, 2), [1, 2])


# ---------------------------------------------------------------------------
# PyTreeDef
# ---------------------------------------------------------------------------


def test_treedef_counts():
    td = tree_structure((1, {"a": 2, "b": None}, [3, (4,)]))
    assert td.num_leaves == 4
    # root tuple, 1, dict, 2, None, list, 3, tuple, 4
    assert td.num_nodes == 9
    assert tree_structure(1).num_nodes == 1
    assert tree_structure(1).num_leaves == 1
    assert tree_structure(()).num_leaves == 0


def test_treedef_repr():
    assert repr(tree_structure((1, {"a": 2}))) == "PyTreeDef((*, {'a': *}))"
    assert repr(tree_structure(3)) == "PyTreeDef(*)"
    assert repr(tree_structure(None)) == "PyTreeDef(None)"
    assert repr(tree_structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree_structure([[], ()])) == "PyTreeDef([[], ()])"
    assert repr(tree_structure(Point(1, 2))) == "PyTreeDef(Point(x=*, y=*))"
    assert (
        repr(tree_structure(OrderedDict([("b", 1), ("a", 2)])))
        == "PyTreeDef(OrderedDict({'b': *, 'a': *}))"
    )
    assert (
        repr(tree_structure(defaultdict(list, a=1)))
        == "PyTreeDef(defaultdict(list, {'a': *}))"
    )
    assert (
        repr(tree_structure(Box("n", 1, 2)))
        == "PyTreeDef(CustomNode(Box['n'], [*, *]))"
    )


def test_treedef_equality_and_hash():
    def td(t):
        return tree_structure(t)

    equal_pairs = [
        ((1, 2), (3.0, "x")),
        ({"a": 1, "b": [2]}, {"b": [np.zeros(3)], "a": Opaque()}),
        (Point(1, None), Point("q", None)),
        (Box("n", 1, 2), Box("n", 3, 4)),
        (Params(1, 2, "t"), Params(5, 6, "t")),
        (OrderedDict(a=1, b=2), OrderedDict(a=3, b=4)),
    ]
    for a, b in equal_pairs:
        assert td(a) == td(b)
        assert (td(a) != td(b)) is False
        assert hash(td(a)) == hash(td(b))

    distinct = [
        1,
        None,
        (),
        [],
        {},
        (1,),
        [1],
        (1, 2),
        (1, (2,)),
        ((1,), 2),
        [1, 2],
        {"a": 1},
        {"b": 1},
        {"a": 1, "b": 2},
        {"a": (1,)},
        Point(1, 2),
        OtherPoint(1, 2),
        Box("n", 1, 2),
        Box("m", 1, 2),
        Params(1, 2, "t"),
        Params(1, 2, "u"),
        OrderedDict(a=1),
        defaultdict(list, a=1),
        defaultdict(int, a=1),
    ]
    defs = [td(t) for t in distinct]
    for i, a in enumerate(defs):
        for j, b in enumerate(defs):
            assert (a == b) == (i == j), (distinct[i], distinct[j])
    # Usable as dict keys / in sets.
    assert len(set(defs)) == len(defs)
    cache = {td((1, {"a": 2})): "hit"}
    assert cache[td((5, {"a": 6}))] == "hit"
    assert td(1) != (1,)
    assert td(1) != "PyTreeDef(*)"


def test_treedef_unhashable_aux():
    class U:
        def __init__(self, v):
            self.v = v

    register_pytree_node(U, lambda u: ((u.v,), [1, 2]), lambda aux, ch: U(*ch))
    leaves, treedef = tree_flatten(U(3))
    assert leaves == [3]
    assert tree_unflatten(treedef, [4]).v == 4
    assert treedef == tree_structure(U(5))
    with pytest.raises(TypeError):
        hash(treedef)


def test_treedef_children():
    td = tree_structure((1, [2, (3, 4)], {"a": None, "b": 5}))
    children = treedef_children(td)
    assert children == [
        tree_structure(0),
        tree_structure([0, (0, 0)]),
        tree_structure({"a": None, "b": 0}),
    ]
    assert td.children() == children
    assert treedef_children(tree_structure(1)) == []
    assert treedef_children(tree_structure(None)) == []
    assert treedef_children(tree_structure(Point(1, (2,)))) == [
        tree_structure(1),
        tree_structure((1,)),
    ]


def test_treedef_is_leaf():
    assert treedef_is_leaf(tree_structure(1))
    assert treedef_is_leaf(tree_structure(np.ones(3)))
    assert not treedef_is_leaf(tree_structure((1,)))
    assert not treedef_is_leaf(tree_structure(None))
    assert not treedef_is_leaf(tree_structure({}))


def test_treedef_pickle_and_copy():
    td = tree_structure(
        {"a": (1, None), "b": [Point(1, 2)], "c": defaultdict(list, k=1)}
    )
    for clone in (pickle.loads(pickle.dumps(td)), copy.copy(td), copy.deepcopy(td)):
        assert clone == td
        assert hash(clone) == hash(td)
        assert clone.unflatten(range(4)) == td.unflatten(range(4))


def test_treedef_node_data():
    assert tree_structure(1).node_data() is None
    assert tree_structure({"b": 1, "a": 2}).node_data() == (dict, ("a", "b"))
    assert tree_structure(Box("n", 1, 2)).node_data() == (Box, "n")
    assert tree_structure(Point(1, 2)).node_data() == (Point, None)


def test_flatten_up_to():
    td = tree_structure([0, {"a": 0}])
    assert td.flatten_up_to([(1, 2), {"a": [3]}]) == [(1, 2), [3]]
    with pytest.raises(ValueError, match="expected a node of type dict"):
        td.flatten_up_to([1, 2])
    with pytest.raises(ValueError, match="key mismatch"):
        td.flatten_up_to([1, {"b": 2}])
    with pytest.raises(ValueError, match="expected a node of type list"):
        td.flatten_up_to((1, {"a": 2}))


# ---------------------------------------------------------------------------
# tree_map and friends
# ---------------------------------------------------------------------------


def test_tree_map_single():
    tree = {"a": [1, 2], "b": (3, None), "c": Point(4, Box("n", 5, 6))}
    out = tree_map(lambda x: x * 10, tree)
    assert out == {"a": [10, 20], "b": (30, None), "c": Point(40, Box("n", 50, 60))}
    assert type(out["c"]) is Point


def test_tree_map_numpy_leaves():
    tree = {"w": np.ones((2, 2)), "b": np.zeros(2)}
    out = tree_map(lambda x: x + 1, tree)
    np.testing.assert_array_equal(out["w"], np.full((2, 2), 2.0))
    np.testing.assert_array_equal(out["b"], np.ones(2))


def test_tree_map_multiple_trees():
    a = {"x": 1, "y": (2, 3)}
    b = {"y": (20, 30), "x": 10}
    c = {"x": 100, "y": (200, 300)}
    assert tree_map(lambda p, q, r: p + q + r, a, b, c) == {"x": 111, "y": (222, 333)}
    assert tree_map(operator.mul, Params(2, 3, "t"), Params(4, 5, "t")) == Params(
        8, 15, "t"
    )
    assert tree_map(operator.add, Point(1, 2), Point(3, 4)) == Point(4, 6)


def test_tree_map_prefix_rest():
    # Leaves of the first tree may correspond to whole subtrees of the others.
    out = tree_map(lambda x, y: (x, y), [1, 2], [{"a": 3}, (4, 5)])
    assert out == [(1, {"a": 3}), (2, (4, 5))]
    # None in the first tree must match None in the others (no leaves).
    assert tree_map(lambda x, y: x + y, (1, None), (2, None)) == (3, None)


def test_tree_map_is_leaf():
    tree = [(1, 2), (3, 4)]
    out = tree_map(lambda t: t[0] + t[1], tree, is_leaf=lambda x: isinstance(x, tuple))
    assert out == [3, 7]
    out = tree_map(
        lambda t, s: sum(t) * s, tree, [10, 100], is_leaf=lambda x: isinstance(x, tuple)
    )
    assert out == [30, 700]
    out = tree_map(
        lambda x: "none" if x is None else x, [None, 1], is_leaf=lambda x: x is None
    )
    assert out == ["none", 1]


@pytest.mark.parametrize(
    ("tree", "other"),
    [
        ((1, 2), (1, 2, 3)),
        ((1, 2), [1, 2]),
        ({"a": 1}, {"b": 1}),
        ({"a": 1}, {"a": 1, "b": 2}),
        ([1, (2, 3)], [1, 2]),
        (Point(1, 2), OtherPoint(1, 2)),
        (Point(1, 2), (1, 2)),
        ((1, None), (1, 2)),
        (Box("n", 1, 2), Box("m", 1, 2)),
        (Params(1, 2, "t"), Params(1, 2, "u")),
        (OrderedDict(a=1, b=2), OrderedDict(a=1, c=2)),
        (defaultdict(list, a=1), defaultdict(list, b=1)),
    ],
)
def test_tree_map_structure_mismatch(tree, other):
    with pytest.raises(ValueError, match="structure mismatch") as info:
        tree_map(lambda *xs: xs[0], tree, other)
    msg = str(info.value)
    assert repr(tree_structure(tree)) in msg
    assert repr(tree_structure(other)) in msg


def test_tree_map_mismatch_in_later_tree():
    with pytest.raises(ValueError, match="#2"):
        tree_map(lambda *xs: 0, [1, 2], [3, 4], [5])


def test_tree_map_ordereddict_matches_by_key():
    a = OrderedDict([("a", 1), ("b", 2)])
    b = OrderedDict([("b", 20), ("a", 10)])
    out = tree_map(operator.add, a, b)
    assert list(out.items()) == [("a", 11), ("b", 22)]


def test_all_leaves():
    assert all_leaves([1, 2.0, np.ones(2), Opaque()])
    assert all_leaves([])
    assert not all_leaves([1, (2,)])
    assert not all_leaves([None])
    assert not all_leaves([Point(1, 2)])
    assert all_leaves([(1, 2), 3], is_leaf=lambda x: isinstance(x, tuple))


def test_tree_all():
    assert tree_all([True, {"a": 1, "b": (2, None)}])
    assert not tree_all([True, {"a": 0}])
    assert tree_all(None)
    assert tree_all([])
    assert tree_all([(1, 0)], is_leaf=lambda x: isinstance(x, tuple))


def test_tree_reduce():
    tree = {"a": 1, "b": [2, (3, None)], "c": Point(4, 5)}
    assert tree_reduce(operator.add, tree) == 15
    assert tree_reduce(operator.add, tree, 100) == 115
    assert tree_reduce(operator.add, [], initializer=7) == 7
    assert tree_reduce(lambda acc, x: [*acc, x], [1, (2, 3)], initializer=[]) == [
        1,
        2,
        3,
    ]
    assert (
        tree_reduce(
            lambda acc, x: acc + len(x),
            [(1, 2), (3,)],
            0,
            is_leaf=lambda x: isinstance(x, tuple),
        )
        == 3
    )
    with pytest.raises(TypeError):
        tree_reduce(operator.add, [])


def test_tree_transpose():
    outer = tree_structure([0, 0, 0])
    inner = tree_structure((0, {"k": 0}))
    tree = [(1, {"k": 2}), (3, {"k": 4}), (5, {"k": 6})]
    assert tree_transpose(outer, inner, tree) == ([1, 3, 5], {"k": [2, 4, 6]})
    assert tree_transpose(outer, None, tree) == ([1, 3, 5], {"k": [2, 4, 6]})
    with pytest.raises(ValueError, match="inner structure"):
        tree_transpose(outer, inner, [(1, {"k": 2}), (3, 4), (5, {"k": 6})])
    empty_outer = tree_structure(())
    assert tree_transpose(empty_outer, inner, ()) == ((), {"k": ()})


# ---------------------------------------------------------------------------
# Property-based tests
# ---------------------------------------------------------------------------

leaf_values = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
dict_keys = st.text(alphabet="abcdefgh", min_size=1, max_size=3)


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(dict_keys, children, max_size=4),
        st.tuples(children, children).map(lambda t: Point(*t)),
        st.tuples(children, children).map(lambda t: Box("box", *t)),
        st.tuples(children, children).map(lambda t: Params(*t)),
        st.lists(st.tuples(dict_keys, children), max_size=3).map(OrderedDict),
    )


trees = st.recursive(st.one_of(leaf_values, st.none()), _containers, max_leaves=25)


@settings(deadline=None, max_examples=50, derandomize=True)
@given(trees)
def test_property_roundtrip(t):
    leaves = tree_leaves(t)
    treedef = tree_structure(t)
    assert treedef.num_leaves == len(leaves)
    assert tree_unflatten(treedef, leaves) == t
    assert tree_map(lambda x: x, t) == t
    assert tree_unflatten(*reversed(tree_flatten(t))) == t
    assert all_leaves(leaves)


@settings(deadline=None, max_examples=50, derandomize=True)
@given(trees)
def test_property_structure_is_leaf_independent(t):
    treedef = tree_structure(t)
    replaced = tree_map(lambda x: "leaf", t)
    assert tree_structure(replaced) == treedef
    assert hash(tree_structure(replaced)) == hash(treedef)
    assert tree_leaves(replaced) == ["leaf"] * treedef.num_leaves
    assert pickle.loads(pickle.dumps(treedef)) == treedef
    # Children of the root reassemble into the same leaves.
    kids = treedef.children()
    assert sum(k.num_leaves for k in kids) == treedef.num_leaves or treedef_is_leaf(
        treedef
    )
    assert sum(k.num_nodes for k in kids) + 1 == treedef.num_nodes


@settings(deadline=None, max_examples=50, derandomize=True)
@given(trees)
def test_property_tree_map_two_trees(t):
    doubled = tree_map(lambda x: x * 2, t)
    summed = tree_map(operator.add, t, t)
    assert summed == doubled
    assert tree_map(lambda x, y: y, t, doubled) == doubled


@settings(deadline=None, max_examples=50, derandomize=True)
@given(trees, trees)
def test_property_equal_structure_iff_equal_placeholder_trees(a, b):
    sa, sb = tree_structure(a), tree_structure(b)
    pa = tree_map(lambda x: 0, a)
    pb = tree_map(lambda x: 0, b)
    assert (sa == sb) == (pa == pb and repr(sa) == repr(sb))
    if sa == sb:
        assert hash(sa) == hash(sb)


# ---------------------------------------------------------------------------
# Doctests
# ---------------------------------------------------------------------------


def test_doctests():
    result = doctest.testmod(fxad.tree_util, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_public_api_documented():
    assert set(tu.__all__) >= {
        "register_pytree_node",
        "register_pytree_node_class",
        "tree_flatten",
        "tree_unflatten",
        "tree_leaves",
        "tree_structure",
        "tree_map",
        "treedef_children",
        "treedef_is_leaf",
        "all_leaves",
        "tree_all",
        "tree_reduce",
        "PyTreeDef",
    }
    for name in tu.__all__:
        obj = getattr(tu, name)
        assert obj.__doc__, name
        assert ">>>" in obj.__doc__, name
    assert PyTreeDef.__slots__
