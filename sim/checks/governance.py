"""Stylized facts of governance: what stricter rules buy and cost."""

from __future__ import annotations

from sim.checks.base import Scale, Verdict, arm, case, mean_of


def _violator_gmv_share(run) -> float:
    return float((run["violator_gmv_share"] * run["gmv_yuan"]).sum() / run["gmv_yuan"].sum())


@case(
    "strict_governance_shrinks_violator_gmv",
    "violators' share of GMV is lower at strictness 0.9 than at 0.1",
    "the articles: screening, bans and removals keep violating goods from buyers (000).",
)
def strict_governance_shrinks_violator_gmv(scale: Scale) -> Verdict:
    lax = mean_of(arm(scale, "platform.governance.strictness=0.1"), _violator_gmv_share)
    strict = mean_of(arm(scale, "platform.governance.strictness=0.9"), _violator_gmv_share)
    return Verdict(f"violator GMV share {lax:.4f} (lax) vs {strict:.4f} (strict)", strict < lax)
