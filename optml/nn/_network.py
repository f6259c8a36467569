r"""The model definition: a feed-forward ReLU network is its weights and biases, nothing else.

How the network becomes constraints lives in :mod:`optml.formulations.relu` (OMLT's lesson:
the model and its formulation stay apart).
"""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np

from optml._validation import check_bool, check_choice


def _as_box(lb, ub, n: int, what: str = "input box"):
    """Validate and broadcast a box ``lb <= x <= ub`` in R^n."""
    try:
        lo = np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy()
        hi = np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy()
    except ValueError:
        raise ValueError(
            f"{what}: lb and ub must be scalars or arrays of length {n} (the number of inputs), "
            f"got shapes {np.shape(lb)} and {np.shape(ub)}"
        ) from None
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(f"{what}: lb and ub must be finite numbers (a MILP needs a bounded box)")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"{what}: lb > ub at input {i} ({lo[i]} > {hi[i]}); pass lb <= ub elementwise"
        )
    return lo, hi


class Optimum(tuple):
    """``(value, x)`` with the solve's details as attributes.

    Unpacks as ``value, x = net.maximize(...)``; also carries ``result`` (the
    :class:`~optml.program.Result`), ``bound`` (proven upper bound for a maximisation),
    ``bounds`` (the :class:`~optml.nn.Bounds` used), ``program`` and ``encoding``.
    """

    def __new__(cls, value, x, **info):
        obj = super().__new__(cls, (value, x))
        obj.__dict__.update(info)
        return obj

    @property
    def value(self) -> float:
        return self[0]

    @property
    def bound(self) -> float:
        """The proven bound of the certified result (upper for a maximisation)."""
        return self.result.bound

    @property
    def x(self) -> np.ndarray:
        return self[1]


class ReLUNetwork:
    r"""A feed-forward network with ReLU between layers and a linear last layer.

    .. math::

        h_0 = x, \quad h_k = \max(0, W_k h_{k-1} + b_k)\ (k < K), \quad f(x) = W_K h_{K-1} + b_K.

    Parameters
    ----------
    weights : list of array, shapes ``(n_k, n_{k-1})``
        ``W_k`` maps layer ``k-1`` (``n_{k-1}`` units) to layer ``k`` — the (out, in) convention.
    biases : list of array, shapes ``(n_k,)``
    classes : array, optional
        Class labels of the outputs (set by :meth:`from_sklearn` for a classifier): ``predict``
        returns ``classes[argmax f(x)]`` (or, with one output, ``classes[f(x) > 0]``).

    Examples
    --------
    >>> import numpy as np
    >>> from optml.nn import ReLUNetwork
    >>> net = ReLUNetwork([np.array([[1.0, -1.0], [1.0, 1.0]]), np.array([[1.0, 1.0]])],
    ...                   [np.zeros(2), np.zeros(1)])
    >>> net.forward(np.array([1.0, 0.0]))
    array([2.])
    >>> value, x = net.maximize(-1.0, 1.0)
    >>> round(value, 6)
    2.0
    """

    def __init__(self, weights, biases, classes=None):
        if isinstance(weights, np.ndarray) and weights.ndim == 2:
            weights = [weights]
        if isinstance(biases, np.ndarray) and biases.ndim == 1:
            biases = [biases]
        weights, biases = list(weights), list(biases)
        if not weights:
            raise ValueError("a network needs at least one layer: weights is empty")
        if len(weights) != len(biases):
            raise ValueError(
                f"got {len(weights)} weight matrices and {len(biases)} bias vectors; pass one "
                "bias vector per layer"
            )
        Ws, bs = [], []
        for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
            W = np.asarray(W, dtype=float)
            b = np.asarray(b, dtype=float).ravel()
            if W.ndim != 2:
                raise ValueError(f"weights[{k}] must be a 2-D array (out, in), got shape {W.shape}")
            if b.size != W.shape[0]:
                raise ValueError(
                    f"layer {k}: weights[{k}] has {W.shape[0]} rows (outputs) but biases[{k}] has "
                    f"{b.size} entries"
                )
            if k and W.shape[1] != Ws[-1].shape[0]:
                raise ValueError(
                    f"shapes do not chain: layer {k - 1} has {Ws[-1].shape[0]} outputs but "
                    f"weights[{k}] expects {W.shape[1]} inputs (weights are (out, in) matrices)"
                )
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise ValueError(f"layer {k}: weights and biases must be finite (no NaN or inf)")
            Ws.append(W)
            bs.append(b)
        self.weights = Ws
        self.biases = bs
        self.classes = None if classes is None else np.asarray(classes)

    # ------------------------------------------------------------------ shape
    @property
    def n_inputs(self) -> int:
        return self.weights[0].shape[1]

    @property
    def n_outputs(self) -> int:
        return self.weights[-1].shape[0]

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_inputs, hidden..., n_outputs)``."""
        return (self.n_inputs,) + tuple(W.shape[0] for W in self.weights)

    @property
    def n_neurons(self) -> int:
        """Number of hidden (ReLU) neurons."""
        return int(sum(W.shape[0] for W in self.weights[:-1]))

    def __repr__(self) -> str:
        return f"ReLUNetwork(layers={'-'.join(map(str, self.layer_sizes))})"

    # ---------------------------------------------------------------- forward
    def _check_X(self, X) -> tuple[np.ndarray, bool]:
        X = np.asarray(X, dtype=float)
        one = X.ndim == 1
        X2 = X.reshape(1, -1) if one else X
        if X2.ndim != 2 or X2.shape[1] != self.n_inputs:
            raise ValueError(
                f"expected inputs with {self.n_inputs} features, got an array of shape {X.shape}"
            )
        return X2, one

    def forward(self, X) -> np.ndarray:
        """Outputs ``f(X)`` with numpy; ``X`` of shape ``(n_inputs,)`` or ``(n, n_inputs)``."""
        H, one = self._check_X(X)
        for k, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            H = H @ W.T + b
            if k < len(self.weights) - 1:
                H = np.maximum(H, 0.0)
        return H[0] if one else H

    def pre_activations(self, x) -> list[np.ndarray]:
        """Pre-activations of every layer for one input ``x``."""
        h, _ = self._check_X(x)
        h = h[0]
        out = []
        for W, b in zip(self.weights, self.biases, strict=True):
            a = W @ h + b
            out.append(a)
            h = np.maximum(a, 0.0)
        return out

    def predict(self, X) -> np.ndarray:
        """Class of each row: argmax of the outputs (one output: ``f > 0``)."""
        F = self.forward(X)
        F2 = F.reshape(1, -1) if F.ndim == 1 else F
        idx = (F2[:, 0] > 0).astype(int) if self.n_outputs == 1 else F2.argmax(axis=1)
        out = idx if self.classes is None else self.classes[idx]
        return out[0] if F.ndim == 1 else out

    def lipschitz_bound(self, norm: str = "inf") -> float:
        """An upper bound on the Lipschitz constant of every output (product of layer norms)."""
        ords = {"inf": np.inf, "1": 1, "2": 2}
        if norm not in ords:
            raise ValueError(f"norm must be 'inf', '1' or '2', got {norm!r}")
        L = 1.0
        for W in self.weights:
            L *= np.linalg.norm(W, ord=ords[norm])
        return float(L)

    # ---------------------------------------------------------------- sklearn
    @classmethod
    def from_sklearn(cls, model) -> ReLUNetwork:
        """The network of a fitted scikit-learn ``MLPClassifier`` / ``MLPRegressor`` (ReLU).

        The outputs are the last layer's pre-activations (logits for a classifier: the softmax /
        logistic output function is monotone, so the predicted class is their argmax, or the
        sign of the single logit for a binary classifier).
        """
        name = type(model).__name__
        if not hasattr(model, "coefs_") or not hasattr(model, "intercepts_"):
            raise TypeError(
                f"from_sklearn takes a fitted MLPClassifier or MLPRegressor, got {name} "
                "(fit it first, or build ReLUNetwork(weights, biases) yourself)"
            )
        act = getattr(model, "activation", None)
        if act != "relu":
            raise ValueError(
                f"{name} uses activation={act!r}; only 'relu' networks are mixed-integer linear. "
                "Refit with activation='relu'"
            )
        W = [np.asarray(c, dtype=float).T for c in model.coefs_]
        b = [np.asarray(i, dtype=float) for i in model.intercepts_]
        return cls(W, b, classes=getattr(model, "classes_", None))

    # -------------------------------------------------------------- programs
    def build_program(
        self,
        lb,
        ub,
        output: int = 0,
        sense: str = "max",
        *,
        bounds: str = "lp",
        formulation: str = "bigm",
        n_partitions: int = 2,
        backend: str = "auto",
        solver: str | None = None,
        settings=None,
    ):
        """The MILP ``max / min f_output(x)`` over ``lb <= x <= ub``.

        Returns the :class:`~optml.program.Program`; its ``metadata`` holds ``"x"`` (the input
        variable), ``"encoding"`` (the :class:`~optml.formulations.relu.ReluEncoding`),
        ``"bounds"`` (the :class:`~optml.nn.Bounds` used) and ``"output"``. Bound tightening
        (``bounds="lp"``/``"milp"``) solves on ``backend``/``solver`` with ``settings`` (a
        :class:`~optml.program.settings.SolveSettings`: its clock, gap, threads, options).

        .. versionchanged:: issue 14
            Returned the tuple ``(program, encoding, bounds)`` before; they are now
            ``program.metadata["encoding"]`` and ``program.metadata["bounds"]``.
        """
        from optml.formulations.relu import add_relu_network
        from optml.nn._bounds import compute_bounds, input_program

        lo, hi = _as_box(lb, ub, self.n_inputs)
        if not isinstance(output, numbers.Integral) or not 0 <= output < self.n_outputs:
            raise ValueError(f"output must be an integer in [0, {self.n_outputs}), got {output!r}")
        check_choice("sense", sense, ("max", "min"))
        bnd = compute_bounds(
            self.weights,
            self.biases,
            lo,
            hi,
            method=bounds,
            formulation=formulation,
            backend=backend,
            solver=solver,
            settings=settings,
        )
        p, x = input_program(lo, hi)
        enc = add_relu_network(
            p,
            self.weights,
            self.biases,
            x,
            bnd.bounds,
            input_bounds=(lo, hi),
            formulation=formulation,
            n_partitions=n_partitions,
        )
        obj = enc.output[output]
        p.maximize(obj) if sense == "max" else p.minimize(obj)
        p.metadata.update(x=x, encoding=enc, bounds=bnd, output=int(output))
        return p

    def maximize(self, lb, ub, output: int = 0, **kwargs) -> Optimum:
        r"""Global maximum of output ``output`` over the box ``lb <= x <= ub``: a MILP.

        Parameters
        ----------
        lb, ub : float or array
            The input box (finite).
        output : int
        bounds : {"lp", "interval", "milp"}
            Neuron bounds: interval arithmetic tightened by LPs (default), interval arithmetic
            only, or tightened by MILPs.
        formulation : {"bigm", "partition"}
        n_partitions : int
        backend, solver, time_limit, verbose, solver_options
            As for :meth:`optml.Program.solve`. ``time_limit`` covers the whole call (bound
            tightening and the MILP, one clock); ``solver_options`` reach every solve.
        mip_gap : float, default=1e-6
            Relative gap of the MILP. The default is tight so that ``value`` is the global
            optimum to within 1e-6 (relative); ``.bound`` is proven whatever the gap.
        heuristic_start : bool, default=True
            Start the MILP from the best of a few hundred random inputs (forward passes).
        warm_start : dict or array, optional
            Starting values: an input point ``x`` (the network's values at ``x`` complete it)
            or values by variable name. Replaces the heuristic start.

        Returns
        -------
        Optimum
            ``(value, x)``: ``value`` is ``f(x)`` recomputed by a numpy forward pass at the
            returned ``x``; ``.bound`` is the proven upper bound, ``.result`` the certified
            :class:`~optml.program.Result` of the MILP.
        """
        return self._optimize("max", lb, ub, output, **kwargs)

    def minimize(self, lb, ub, output: int = 0, **kwargs) -> Optimum:
        """Global minimum of one output over a box; see :meth:`maximize`."""
        return self._optimize("min", lb, ub, output, **kwargs)

    def _optimize(
        self,
        sense,
        lb,
        ub,
        output,
        *,
        bounds="lp",
        formulation="bigm",
        n_partitions=2,
        backend="auto",
        solver=None,
        time_limit=None,
        mip_gap=1e-6,
        verbose=False,
        solver_options=None,
        heuristic_start=True,
        warm_start=None,
        random_state=0,
    ) -> Optimum:
        from optml.nn._solve import call_settings, solve_inside

        t0 = time.perf_counter()
        if isinstance(warm_start, bool):
            warnings.warn(
                "warm_start=True/False in maximize/minimize is now heuristic_start=; "
                "warm_start takes starting values (an input point or a dict)",
                FutureWarning,
                stacklevel=3,
            )
            heuristic_start, warm_start = warm_start, None
        heuristic_start = check_bool("heuristic_start", heuristic_start)
        settings = call_settings(
            time_limit=time_limit, mip_gap=mip_gap, verbose=verbose, solver_options=solver_options
        )
        p = self.build_program(
            lb,
            ub,
            output,
            sense,
            bounds=bounds,
            formulation=formulation,
            n_partitions=n_partitions,
            backend=backend,
            solver=solver,
            # tightening MILPs keep their own gap (compute_bounds' default): the user's gap is
            # the gap of the network MILP
            settings=settings.replace(mip_gap=None),
        )
        enc, bnd = p.metadata["encoding"], p.metadata["bounds"]
        lo, hi = _as_box(lb, ub, self.n_inputs)
        ws = None
        if warm_start is not None and not isinstance(warm_start, dict):
            start = np.clip(np.asarray(warm_start, dtype=float).ravel(), lo, hi)
            if start.size != self.n_inputs:
                raise ValueError(
                    f"warm_start: an input point has {self.n_inputs} entries, got {start.size}"
                )
            ws = {"x": start, **enc.values_at(start)}
        elif warm_start is not None:
            ws = dict(warm_start)
            if set(ws) == {"x"}:
                ws.update(enc.values_at(np.clip(np.asarray(ws["x"], dtype=float), lo, hi)))
        elif heuristic_start:
            rng = np.random.default_rng(random_state)
            cand = lo + (hi - lo) * rng.random((256, self.n_inputs))
            cand = np.vstack([cand, lo, hi, (lo + hi) / 2])
            f = self.forward(cand)[:, output]
            best = cand[int(np.argmax(f) if sense == "max" else np.argmin(f))]
            ws = {"x": best, **enc.values_at(best)}
        if ws is not None:
            ws = {k: v for k, v in ws.items() if k in p.variables}
        res = solve_inside(p, backend, solver, settings, warm_start=ws or None)
        if not res.has_solution:
            from optml.exceptions import SolveError

            raise SolveError(
                f"no solution for the network MILP (status {res.status!r}: {res.message}); "
                "raise time_limit"
            )
        x = np.clip(np.asarray(res.values["x"], dtype=float), lo, hi)
        value = float(self.forward(x)[output])
        return Optimum(
            value,
            x,
            result=res,
            bounds=bnd,
            program=p,
            encoding=enc,
            n_binaries=enc.n_binaries,
            time=time.perf_counter() - t0,
        )
