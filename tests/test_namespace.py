"""The public namespaces: what is re-exported, and what importing needs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import fxad
import fxad.numpy as fnp


def test_numpy_random_is_numpys_own():
    import fxad.numpy.random as r

    assert fnp.random is np.random and r is np.random


def test_import_fxad_needs_only_numpy():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('scipy', 'hypothesis', 'pytest'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import fxad, fxad.numpy as fnp\n"
        "print(float(fxad.grad(fnp.sin)(0.0)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "1.0"


def test_public_api_matches_the_contract():
    for name in ["grad", "value_and_grad", "jvp", "vjp", "linearize", "linear_transpose",
                 "jacfwd", "jacrev", "hessian", "stop_gradient", "make_jaxpr", "vmap"]:
        assert callable(getattr(fxad, name)), name
        assert getattr(fxad, name).__doc__, name
    assert issubclass(fxad.errors.ConcretizationTypeError, TypeError)
    for name in ["tree_map", "tree_flatten", "tree_unflatten", "tree_leaves",
                 "tree_structure", "register_pytree_node", "register_pytree_node_class"]:
        assert callable(getattr(fxad.tree_util, name)), name
    assert callable(fxad.test_util.check_grads)
