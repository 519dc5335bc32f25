"""The SRM layer is a fixed, known filter bank: check its responses by hand."""

from __future__ import annotations

import torch

from shared.model.srm import KERNEL_1, KERNEL_2, KERNEL_3, SRMFilter, srm_weight


def test_kernels_are_zhou2018_normalised_by_4_12_2() -> None:
    assert KERNEL_1[2, 2] == -4 / 4 and KERNEL_1[1, 2] == 2 / 4
    assert KERNEL_2[2, 2] == -12 / 12 and KERNEL_2[0, 0] == -1 / 12
    assert KERNEL_3[2, 1] == 1 / 2 and KERNEL_3[2, 2] == -2 / 2
    for k in (KERNEL_1, KERNEL_2, KERNEL_3):
        assert abs(float(k.sum())) < 1e-6, "a residual filter removes constant content"


def test_each_output_applies_one_kernel_to_r_g_and_b() -> None:
    w = srm_weight()
    assert w.shape == (3, 3, 5, 5)
    for out, kernel in enumerate((KERNEL_1, KERNEL_2, KERNEL_3)):
        for c in range(3):
            assert torch.equal(w[out, c], kernel)


def test_flat_and_linear_images_give_zero_residual() -> None:
    srm = SRMFilter(clip=None)
    flat = torch.full((1, 3, 16, 16), 0.5)
    assert srm(flat).abs().max() < 1e-4
    ramp = torch.linspace(0, 1, 16).view(1, 1, 1, 16).expand(1, 3, 16, 16).contiguous()
    out = srm(ramp)[:, :, 3:-3, 3:-3]  # away from the reflected border
    assert out.abs().max() < 1e-3, "second-order filters cancel a linear ramp"


def test_impulse_response_sums_channels_on_the_0_255_scale() -> None:
    srm = SRMFilter(clip=None)
    x = torch.zeros(1, 3, 11, 11)
    x[0, 0, 5, 5] = 1.0 / 255  # one grey level in R
    x[0, 1, 5, 5] = 2.0 / 255  # two in G
    y = srm(x)
    total = 3.0  # R + G at the impulse, on the 0-255 scale
    assert torch.isclose(y[0, 0, 5, 5], torch.tensor(-1.0 * total), atol=1e-4)  # KERNEL_1 centre = -4/4
    assert torch.isclose(y[0, 1, 5, 5], torch.tensor(-1.0 * total), atol=1e-4)  # KERNEL_2 centre = -12/12
    assert torch.isclose(y[0, 2, 5, 5], torch.tensor(-1.0 * total), atol=1e-4)  # KERNEL_3 centre = -2/2
    # correlation: the response at (5,4) sees the impulse through the kernel tap at (2,3)
    assert torch.isclose(y[0, 2, 5, 4], torch.tensor(0.5 * total), atol=1e-4)
    assert torch.isclose(y[0, 1, 3, 3], torch.tensor(-1 / 12 * total), atol=1e-4)


def test_clipping_truncates_and_scales_to_unit_range() -> None:
    srm = SRMFilter(clip=3.0)
    x = torch.zeros(1, 3, 9, 9)
    x[0, :, 4, 4] = 1.0  # a huge residual
    y = srm(x)
    assert y.max() <= 1.0 and y.min() >= -1.0
    assert torch.isclose(y[0, 0, 4, 4], torch.tensor(-1.0))
    small = torch.zeros(1, 3, 9, 9)
    small[0, 0, 4, 4] = 1.0 / 255
    assert torch.isclose(srm(small)[0, 2, 4, 4], torch.tensor(-1.0 / 3.0), atol=1e-5)


def test_network_outputs_a_logit_and_a_heatmap_per_face() -> None:
    from shared.model.network import NetworkConfig, SRMEfficientNet

    net = SRMEfficientNet(NetworkConfig(input_size=96)).eval()
    with torch.inference_mode():
        logit, heat = net(torch.rand(2, 3, 96, 96))
    assert logit.shape == (2,)
    assert heat.shape[0] == 2 and heat.ndim == 3
    assert float(heat.min()) >= 0.0 and float(heat.max()) <= 1.0
