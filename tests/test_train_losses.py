"""GRPO loss pieces against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainers.losses import Normaliser, aggregate, group_advantages, k3_kl, policy_loss_terms


def test_advantages_are_reward_minus_group_mean():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    adv = group_advantages(rewards, groups)
    expected = [0.5, -0.5, -0.5, 0.5, 1 / 3, 1 / 3, -2 / 3]
    assert adv.tolist() == pytest.approx(expected, abs=1e-6)


def test_std_scaling_divides_by_sample_std():
    rewards = torch.tensor([1.0, 0.0, 0.0, 0.0])
    adv = group_advantages(rewards, torch.zeros(4, dtype=torch.long), scale_std=True, eps=0.0)
    std = math.sqrt(((0.75**2) + 3 * (0.25**2)) / 3)  # sample std of [1, 0, 0, 0]
    assert adv.tolist() == pytest.approx([0.75 / std] + [-0.25 / std] * 3, abs=1e-6)


def test_equal_rewards_give_zero_advantage_even_with_std_scaling():
    adv = group_advantages(torch.ones(4), torch.zeros(4, dtype=torch.long), scale_std=True)
    assert adv.tolist() == [0.0] * 4


@given(st.lists(st.floats(-5, 5), min_size=2, max_size=12), st.integers(1, 4))
@settings(max_examples=50, deadline=None)
def test_advantages_sum_to_zero_per_group(values, ngroups):
    rewards = torch.tensor(values)
    groups = torch.arange(len(values)) % ngroups
    adv = group_advantages(rewards, groups)
    for g in groups.unique():
        assert float(adv[groups == g].sum()) == pytest.approx(0.0, abs=1e-4)


def test_k3_is_exp_minus_delta_minus_one():
    logp = torch.tensor([-1.0, -2.0])
    ref = torch.tensor([-1.5, -2.0])
    assert k3_kl(logp, ref).tolist() == pytest.approx([math.exp(-0.5) + 0.5 - 1, 0.0])


def test_clip_higher_uses_separate_ranges():
    old = torch.zeros(1, 4)
    # ratios 1.5, 1.5, 0.5, 0.5 with advantages +1, -1, +1, -1
    logp = torch.log(torch.tensor([[1.5, 1.5, 0.5, 0.5]]))
    adv = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    terms = policy_loss_terms(logp, old, adv, clip_low=0.2, clip_high=0.28)
    # A>0, r=1.5: min(1.5, 1.28) = 1.28 -> loss -1.28 ; A<0, r=1.5: min(-1.5, -1.28) = -1.5 -> 1.5
    # A>0, r=0.5: min(0.5, 0.8) = 0.5 -> -0.5       ; A<0, r=0.5: min(-0.5, -0.8) = -0.8 -> 0.8
    assert terms.loss.tolist()[0] == pytest.approx([-1.28, 1.5, -0.5, 0.8])
    assert terms.clipped_high.tolist()[0] == [True, False, False, False]
    assert terms.clipped_low.tolist()[0] == [False, False, False, True]


def test_kl_term_is_added_with_its_coefficient():
    logp = torch.tensor([[-1.0]])
    ref = torch.tensor([[-1.5]])
    terms = policy_loss_terms(logp, logp.clone(), torch.tensor([2.0]), kl_coef=0.1, ref_logp=ref)
    assert float(terms.loss) == pytest.approx(-2.0 + 0.1 * (math.exp(-0.5) + 0.5 - 1))
    with pytest.raises(ValueError, match="reference"):
        policy_loss_terms(logp, logp, torch.tensor([1.0]), kl_coef=0.1)


def test_aggregations_by_hand():
    per_token = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    norm = Normaliser(tokens=4, sequences=2, max_tokens=8)
    assert float(aggregate(per_token, mask, "token-mean", norm)) == pytest.approx(10 / 4)
    assert float(aggregate(per_token, mask, "sequence-mean", norm)) == pytest.approx((2 + 4) / 2)
    assert float(aggregate(per_token, mask, "constant", norm)) == pytest.approx(10 / 16)
    with pytest.raises(ValueError, match="token-mean, sequence-mean, constant"):
        aggregate(per_token, mask, "mean", norm)


@pytest.mark.parametrize("mode", ["token-mean", "sequence-mean", "constant"])
def test_micro_batch_sums_equal_the_whole_batch(mode):
    torch.manual_seed(0)
    per_token = torch.randn(6, 5)
    mask = (torch.rand(6, 5) > 0.3).long()
    mask[:, 0] = 1
    norm = Normaliser(int(mask.sum()), 6, 5)
    whole = aggregate(per_token, mask, mode, norm)
    parts = aggregate(per_token[:2], mask[:2], mode, norm) + aggregate(
        per_token[2:], mask[2:], mode, norm
    )
    assert float(parts) == pytest.approx(float(whole), abs=1e-6)


def test_first_pass_gradient_is_advantage_weighted_logprob_gradient():
    # ratio == 1 at the first pass: d loss / d logp = -A / tokens (token-mean)
    logp = torch.tensor([[-1.0, -2.0], [-0.5, -0.1]], requires_grad=True)
    adv = torch.tensor([1.0, -2.0])
    terms = policy_loss_terms(logp, logp.detach(), adv)
    loss = aggregate(terms.loss, torch.ones(2, 2), "token-mean", Normaliser(4, 2, 2))
    loss.backward()
    assert logp.grad.flatten().tolist() == pytest.approx([-0.25, -0.25, 0.5, 0.5])
