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


def test_clipping_is_a_card_setting_that_serving_honours(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`network.srm.clip` in the card (null: no clipping) is what the served network applies."""
    from shared.model.card import read_meta
    from shared.model.checkpoint import init_checkpoint, load_checkpoint
    from shared.model.network import NetworkConfig
    from shared.training.train import ModelConfig

    for clip in (None, 3.0):
        path = tmp_path / f"clip-{clip}.safetensors"
        init_checkpoint(path, ModelConfig(input_size=64, srm_clip=clip).network())
        meta = read_meta(path)
        assert meta.network["srm"]["clip"] == clip and meta.serving_policy()["srm_clip"] == clip
        assert load_checkpoint(str(path)).model.srm.clip == clip
    assert NetworkConfig().srm_clip == 3.0, "the default until a measurement says otherwise"


def test_clipping_at_3_saturates_a_natural_face() -> None:
    """The measurement behind the setting: on a real face crop most summed responses exceed
    ±3, so the clipped maps are close to a sign map; ±30 keeps most of them."""
    import numpy as np

    from shared.model.srm import clip_saturation
    from shared.pipeline.faces import crop_square
    from shared.training.photos import offline_photo

    photo = offline_photo("astronaut")
    h, w = photo.shape[:2]
    crop = crop_square(photo, (w * 0.3, h * 0.15, w * 0.6, h * 0.5), 0.3, 224)
    x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float() / 255
    assert clip_saturation(x, 3.0) > 0.4
    assert clip_saturation(x, 30.0) < 0.15
    assert clip_saturation(torch.full((1, 3, 16, 16), 0.5)) == 0.0
