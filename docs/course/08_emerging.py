# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 8. Emerging paradigms: Bayesian network structure and machine teaching
#
# Two questions that are neither regression nor classification, yet are integer programs:
# which directed acyclic graph explains a data set best (structure learning), and which few
# examples make a learner produce a given model (machine teaching). We write both programs by
# hand, solve them on two solvers, check them by enumeration, and compare with
# `optml.bayesnet` and `optml.teaching`.
#
# *Survey section: emerging paradigms (Bayesian network structure learning by integer
# programming, Jaakkola et al. 2010 and Cussens 2011; machine teaching, Goldman and Kearns
# 1995, Zhu 2015).*

# %%
import itertools

import matplotlib

matplotlib.use("Agg")  # figures are saved to files; in Jupyter remove this line to see them inline
import matplotlib.pyplot as plt
import numpy as np

import optml as om
from optml.bayesnet import BayesianNetworkStructure, candidate_parent_sets, network_score
from optml.data import load_network, sample_network
from optml.formulations.teaching import threshold_hypotheses
from optml.teaching import TeachingSet, teaching_dimension

asia = load_network("asia")
frame = sample_network(asia, n=2000, random_state=0)
cols = ["smoke", "lung", "bronc", "either", "dysp"]
D = np.column_stack([(frame[c] == "yes").to_numpy().astype(int) for c in cols])
card = np.full(len(cols), 2)
print("true arcs among", cols, [e for e in asia.edges if e[0] in cols and e[1] in cols])

# %% [markdown]
# ## Structure learning as an integer program
#
# The BIC score of a DAG is a sum of local scores, one per node and its parent set. Score the
# candidate parent sets $P$ of every node $v$ (here at most 2 parents, pruned: a set is kept
# only if it beats all its subsets), and pick one per node, $z_{v,P} \in \{0,1\}$:
#
# $$\max \sum_{v,P} s_v(P)\, z_{v,P}\quad\text{s.t.}\quad \sum_P z_{v,P} = 1\ \ \forall v,\qquad
#   \sum_{v \in C}\ \sum_{P:\,P \cap C = \emptyset} z_{v,P} \ge 1\ \ \forall C,\ |C| \ge 2$$
#
# The cluster constraints (Jaakkola et al. 2010) say that every set $C$ of nodes has a node
# whose parents all lie outside $C$: no cycle can live inside $C$. With 5 nodes we write all
# 26 of them; optml adds them lazily on larger networks.

# %%
cand = candidate_parent_sets(D, card, max_parents=2)
m = len(cols)
bn = om.Program("bn_structure")
z = {v: bn.var(f"z{v}", shape=len(cand.parents[v]), domain="binary") for v in range(m)}
for v in range(m):
    bn.add(z[v].sum() == 1, name=f"one_{v}")
for size in range(2, m + 1):
    for C in itertools.combinations(range(m), size):
        terms = [z[v][i] for v in C for i, P in enumerate(cand.parents[v]) if not set(P) & set(C)]
        bn.add(om.sum(terms) >= 1, name=f"cluster_{'_'.join(map(str, C))}")
bn.maximize(om.sum([np.asarray(cand.scores[v], dtype=float) @ z[v] for v in range(m)]))
print(bn.summary())

chosen = {}
for backend, solver in (("highs", None), ("pyomo", "scip")):
    res = bn.solve(backend=backend, solver=solver)
    parents = [cand.parents[v][int(np.argmax(res.values[f"z{v}"]))] for v in range(m)]
    chosen[backend] = (res.objective, parents)
    print(
        f"{res.backend}/{res.solver}: {res.status} BIC {res.objective:.4f} bound "
        f"{res.bound:.4f} gap {res.gap:.1e}"
    )

# %% [markdown]
# Enumeration over every combination of candidate parent sets, keeping the acyclic ones,
# confirms the optimum, and the score recomputed from the data agrees:


# %%
def acyclic(parents):
    done, left = set(), set(range(len(parents)))
    while left:
        ready = [v for v in left if set(parents[v]) <= done]
        if not ready:
            return False
        done.update(ready)
        left.difference_update(ready)
    return True


best = max(
    sum(cand.scores[v][i] for v, i in enumerate(idx))
    for idx in itertools.product(*(range(len(p)) for p in cand.parents))
    if acyclic([cand.parents[v][i] for v, i in enumerate(idx)])
)
print("enumeration:", round(best, 6))
for obj, parents in chosen.values():
    assert abs(obj - best) <= 1e-6 * abs(best)
    assert abs(network_score(D, card, parents) - best) <= 1e-6 * abs(best)

est = BayesianNetworkStructure(scoring="bic", max_parents=2).fit(frame[cols])
print("BayesianNetworkStructure:", est.edges_, est.result_)
assert abs(est.score_ - best) <= 1e-6 * abs(best)
edges = [(cols[u], cols[v]) for v, P in enumerate(chosen["highs"][1]) for u in P]
print("learnt arcs:", edges)

# %% [markdown]
# BIC cannot tell Markov-equivalent DAGs apart: an arc may come out reversed compared with the
# true network, with the same score.
#
# ## Machine teaching: the fewest examples that pin down a hypothesis
#
# A learner that returns any hypothesis consistent with its examples is taught $h$ by a set
# $S$ of points if every other hypothesis disagrees with $h$ somewhere on $S$. The smallest
# such $S$ is a set cover, with $x_i = 1$ when point $i$ is shown:
#
# $$\min \sum_i x_i\quad\text{s.t.}\quad \sum_{i:\,h'(i) \ne h(i)} x_i \ge 1\ \ \forall h' \ne h,
#   \qquad x \in \{0,1\}^n$$
#
# For thresholds on a line (Goldman and Kearns 1995) the answer is 2 for an inner threshold
# (the two points next to it) and 1 at the ends.

# %%
pts = np.arange(8, dtype=float)
H = threshold_hypotheses(pts)  # rows: hypotheses, columns: labels of the points
print("hypotheses x points:", H.shape)
sizes = {}
for t in range(H.shape[0]):
    tp = om.Program(f"teach_{t}")
    x = tp.var("x", shape=H.shape[1], domain="binary")
    for h in range(H.shape[0]):
        if h != t:
            tp.add((H[h] != H[t]).astype(float) @ x >= 1, name=f"rule_out_{h}")
    tp.minimize(x.sum())
    got = []
    for backend, solver in (("highs", None), ("pyomo", "scip")):
        res = tp.solve(backend=backend, solver=solver)
        assert res.status == "optimal"
        got.append(round(res.objective))
    assert got[0] == got[1]
    brute = next(  # the smallest subset that separates t from every other hypothesis
        r
        for r in range(H.shape[1] + 1)
        for S in itertools.combinations(range(H.shape[1]), r)
        if all((H[h, list(S)] != H[t, list(S)]).any() for h in range(H.shape[0]) if h != t)
    )
    assert got[0] == brute
    sizes[t] = got[0]
print("minimum teaching set per threshold:", list(sizes.values()))
td = teaching_dimension(H)
print("teaching_dimension:", td["dimension"])
assert td["dimension"] == max(sizes.values())

# %% [markdown]
# ## Teaching a learner that optimises: the SVM
#
# A soft-margin SVM is not a consistent learner: it returns the minimiser of its own
# objective. `TeachingSet` writes the learner's optimality (KKT) conditions at the target
# model as constraints on the chosen examples. The target $w = 2, b = -7$ (threshold 3.5) is
# taught by the two margin points:

# %%
s = np.where(pts >= 4, 1, -1)
teach = TeachingSet(learner="svm", C=10.0).fit(
    pts.reshape(-1, 1), s, target_coef=[2.0], target_intercept=-7.0
)
check = teach.verify()  # retrain scikit-learn's SVC on the teaching set
print(teach.support_, teach.result_, check.passed, sep="\n")
assert teach.n_examples_ == 2 and check.passed

# %% [markdown]
# ## Figure: the learnt DAG and the teaching sets

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
angle = np.linspace(0, 2 * np.pi, m, endpoint=False)
pos = {c: (np.cos(a), np.sin(a)) for c, a in zip(cols, angle, strict=True)}
for u, v in edges:
    ax1.annotate(
        "", xy=pos[v], xytext=pos[u], arrowprops={"arrowstyle": "-|>", "shrinkA": 16, "shrinkB": 16}
    )
for c, (px, py) in pos.items():
    ax1.text(px, py, c, ha="center", va="center", bbox={"boxstyle": "round", "fc": "w"})
ax1.set_xlim(-1.5, 1.5)
ax1.set_ylim(-1.4, 1.4)
ax1.axis("off")
ax1.set_title(f"asia (5 nodes, n = 2000): BIC-optimal DAG, gap {est.result_.gap:.0e}", fontsize=9)
ax2.bar(range(len(sizes)), list(sizes.values()), color="C0")
ax2.set_xlabel("threshold (0 = left of every point)")
ax2.set_ylabel("minimum teaching set size")
ax2.set_yticks([0, 1, 2])
ax2.set_title("thresholds on 8 points: certified set covers", fontsize=9)
fig.tight_layout()
fig.savefig("course_emerging.png", dpi=90)

# %% [markdown]
# ## Exercises
#
# 1. Require the arc `smoke -> lung` (`required_edges=[("smoke", "lung")]`) and forbid its
#    reverse. How much BIC does the constraint cost? Write the same constraint in the hand-made
#    program by fixing the $z_{v,P}$ that contradict it.
# 2. Replace BIC by the BDeu score (`scoring="bdeu"`) and vary `equivalent_sample_size` from
#    0.1 to 100. Does the learnt skeleton change?
# 3. Drop the cluster constraints of size 4 and 5 from the program. Is the answer still a
#    DAG? Which constraints are tight at the optimum?
# 4. Teach the threshold hypotheses with `TeachingSet(learner="svm")` for every inner
#    threshold. Is the SVM ever harder to teach than a consistent learner?
# 5. Use `optml.teaching.PoisoningAttack` (the dual question: the fewest training points to
#    change so that the learner moves) on the iris pool of `examples/teaching_svm.py`.
