"""The model zoo: architectures and checkpoint layouts of CRD / mdistiller,
torchvision compatibility, the ``forward_features``/``fc`` contract and the
dual head on top of every CIFAR network."""
import pytest
import torch
import torch.nn as nn
import torchvision
from mmengine.registry import MODELS

from dhkd_det.models import DualHeadClassifier


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope='module')
def cifar_batch():
    return torch.randn(2, 3, 32, 32,
                       generator=torch.Generator().manual_seed(0))


def test_param_counts_exact():
    assert n_params(MODELS.build(dict(type='resnet32x4',
                                      num_classes=100))) == 7_433_860
    dual = DualHeadClassifier(dict(type='resnet8x4', num_classes=100),
                              aux_head='nonlinear')
    assert n_params(dual) == 1_305_440
    # 256*200+200 (Linear) + 2*200 (BatchNorm1d) + 200*100+100 (Linear)
    assert n_params(dual.aux_head) == 71_900
    assert n_params(dual.network) == 1_233_540


def registered_in(package):
    """The names the registry holds for the networks of ``package``: the
    registry is the one list of the zoo."""
    return sorted(name for name, obj in MODELS.module_dict.items()
                  if getattr(obj, '__module__', '').startswith(package))


CIFAR_MODELS = registered_in('dhkd_det.models.cifar')
IMAGENET_MODELS = registered_in('dhkd_det.models.imagenet')
# Parameter counts in millions as tabulated by CRD (Tian et al., ICLR 2020)
# for the 100-class networks (to the 0.01M they print, truncated or
# rounded).
CRD_PARAMS_M = {
    'resnet20': 0.28, 'resnet32': 0.47, 'resnet56': 0.86, 'resnet110': 1.74,
    'resnet8x4': 1.23, 'resnet32x4': 7.43, 'wrn_16_2': 0.70,
    'wrn_40_1': 0.57, 'wrn_40_2': 2.26, 'vgg8': 3.96, 'vgg13': 9.46,
    'ResNet50': 23.71, 'MobileNetV2': 0.81, 'ShuffleV1': 0.95,
    'ShuffleV2': 1.36,
}


@pytest.mark.parametrize('name', CIFAR_MODELS)
def test_cifar_model_contract(name, cifar_batch):
    model = MODELS.build(dict(type=name, num_classes=100)).eval()
    if name in CRD_PARAMS_M:
        assert abs(n_params(model) / 1e6 - CRD_PARAMS_M[name]) < 0.01
    assert isinstance(model.fc, nn.Linear)
    assert model.fc.out_features == 100
    assert isinstance(model.feat_dim, int)
    # `fc` may alias the reference's `classifier`/`linear`: its weight must
    # still appear under one state-dict key only.
    tensors = model.state_dict(keep_vars=True).values()
    assert sum(t is model.fc.weight for t in tensors) == 1
    with torch.no_grad():
        feats = model.forward_features(cifar_batch)
        logits = model(cifar_batch)
        assert feats.shape == (2, model.feat_dim)
        assert logits.shape == (2, 100)
        assert torch.equal(model.fc(feats), logits)


def test_cifar_models_registered_under_the_reference_names():
    assert CIFAR_MODELS == sorted(
        ['resnet8', 'resnet14', 'resnet20', 'resnet32', 'resnet44',
         'resnet56', 'resnet110', 'resnet8x4', 'resnet32x4', 'ResNet50',
         'wrn_16_1', 'wrn_16_2', 'wrn_40_1', 'wrn_40_2', 'vgg8', 'vgg11',
         'vgg13', 'vgg16', 'vgg19', 'MobileNetV2', 'mobile_half',
         'ShuffleV1', 'ShuffleV2'])
    assert MODELS.get('MobileNetV2') is MODELS.get('mobile_half')


def resnet_keys(depth, widths):
    """Reference state-dict keys of mdistiller's cifar/resnet.py."""
    bn = ('weight', 'bias', 'running_mean', 'running_var',
          'num_batches_tracked')
    keys = ['conv1.weight'] + [f'bn1.{k}' for k in bn]
    inplanes = widths[0]
    for stage, planes in enumerate(widths[1:], start=1):
        for i in range((depth - 2) // 6):
            p = f'layer{stage}.{i}.'
            keys += [p + 'conv1.weight'] + [p + f'bn1.{k}' for k in bn]
            keys += [p + 'conv2.weight'] + [p + f'bn2.{k}' for k in bn]
            if i == 0 and (stage > 1 or inplanes != planes):
                keys += [p + 'downsample.0.weight']
                keys += [p + f'downsample.1.{k}' for k in bn]
        inplanes = planes
    return keys + ['fc.weight', 'fc.bias']


@pytest.mark.parametrize('name,depth,n_keys', [('resnet8x4', 8, 62),
                                               ('resnet32x4', 32, 206),
                                               ('resnet56', 56, 344)])
def test_resnet_checkpoint_layout(name, depth, n_keys):
    model = MODELS.build(dict(type=name))
    widths = [32, 64, 128, 256] if name.endswith('x4') else [16, 16, 32, 64]
    expected = resnet_keys(depth, widths)
    assert len(expected) == n_keys
    assert list(model.state_dict()) == expected
    for key in ('conv1.weight', 'bn1.running_mean', 'layer1.0.conv1.weight',
                'layer2.0.downsample.0.weight', 'fc.weight', 'fc.bias'):
        assert key in model.state_dict()
    # Only the x4 nets widen in layer1 and so need a projection there.
    assert ('layer1.0.downsample.0.weight'
            in model.state_dict()) == name.endswith('x4')
    assert model.state_dict()['layer3.0.downsample.0.weight'].shape == (
        widths[3], widths[2], 1, 1)


# Keys (and shapes) from the reference implementations.
REFERENCE_KEYS = {
    'wrn_40_2': {
        'conv1.weight': (16, 3, 3, 3),
        'block1.layer.0.bn1.weight': (16, ),
        'block1.layer.0.convShortcut.weight': (32, 16, 1, 1),
        'block1.layer.5.conv2.weight': (32, 32, 3, 3),
        'block3.layer.0.convShortcut.weight': (128, 64, 1, 1),
        'bn1.running_var': (128, ),
        'fc.weight': (100, 128),
    },
    'vgg13': {
        'block0.0.weight': (64, 3, 3, 3),
        'block0.0.bias': (64, ),
        'block0.1.running_mean': (64, ),
        'block0.3.weight': (64, 64, 3, 3),
        'block4.4.weight': (512, ),
        'classifier.weight': (100, 512),
        'classifier.bias': (100, ),
    },
    'MobileNetV2': {
        'conv1.0.weight': (16, 3, 3, 3),
        'blocks.0.0.conv.0.weight': (16, 16, 1, 1),
        'blocks.1.0.conv.3.weight': (48, 1, 3, 3),
        'blocks.6.0.conv.7.running_var': (160, ),
        'conv2.0.weight': (1280, 160, 1, 1),
        'classifier.0.weight': (100, 1280),
    },
    'ShuffleV1': {
        'conv1.weight': (24, 3, 1, 1),
        'layer1.0.conv1.weight': (54, 24, 1, 1),
        'layer1.0.conv3.weight': (216, 18, 1, 1),
        'layer2.0.conv1.weight': (60, 80, 1, 1),
        'layer3.3.bn3.weight': (960, ),
        'linear.weight': (100, 960),
    },
    'ShuffleV2': {
        'layer1.0.conv1.weight': (24, 1, 3, 3),
        'layer1.0.conv5.weight': (58, 58, 1, 1),
        'layer1.1.conv1.weight': (58, 58, 1, 1),
        'layer2.7.bn3.weight': (116, ),
        'conv2.weight': (1024, 464, 1, 1),
        'linear.weight': (100, 1024),
    },
    'ResNet50': {
        'conv1.weight': (64, 3, 3, 3),
        'layer1.0.shortcut.0.weight': (256, 64, 1, 1),
        'layer1.0.shortcut.1.running_mean': (256, ),
        'layer4.2.conv3.weight': (2048, 512, 1, 1),
        'linear.weight': (100, 2048),
    },
}


# Top-level names of the reference state dicts: in particular no `fc.` key
# where the reference calls its classifier otherwise.
REFERENCE_TOP_LEVEL = {
    'wrn_40_2': {'conv1', 'block1', 'block2', 'block3', 'bn1', 'fc'},
    'vgg13': {'block0', 'block1', 'block2', 'block3', 'block4', 'classifier'},
    'MobileNetV2': {'conv1', 'blocks', 'conv2', 'classifier'},
    'ShuffleV1': {'conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'linear'},
    'ShuffleV2': {'conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'conv2',
                  'bn2', 'linear'},
    'ResNet50': {'conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'layer4',
                 'linear'},
}


@pytest.mark.parametrize('name', sorted(REFERENCE_KEYS))
def test_reference_checkpoint_layout(name):
    state = MODELS.build(dict(type=name)).state_dict()
    assert {k.split('.')[0] for k in state} == REFERENCE_TOP_LEVEL[name]
    for key, shape in REFERENCE_KEYS[name].items():
        assert key in state, f'{name}: missing {key}'
        assert tuple(state[key].shape) == shape, key


@pytest.mark.parametrize(
    'name', ['resnet8x4', 'resnet32x4', 'wrn_16_2', 'vgg8', 'MobileNetV2',
             'ShuffleV1', 'ShuffleV2'])
def test_checkpoint_round_trip(name, cifar_batch, tmp_path):
    model = MODELS.build(dict(type=name))
    with torch.no_grad():
        model.train()(cifar_batch)  # move BN running stats off their init
    path = tmp_path / 'ckpt_epoch_240.pth'
    torch.save({'model': model.state_dict()}, path)

    fresh = MODELS.build(dict(type=name))
    fresh.load_state_dict(torch.load(path)['model'], strict=True)
    with torch.no_grad():
        assert torch.equal(model.eval()(cifar_batch),
                           fresh.eval()(cifar_batch))


IMAGENET_FEAT_DIMS = {'tv_resnet18': 512, 'tv_resnet34': 512,
                      'tv_resnet50': 2048, 'MobileNetV1': 1024}


@pytest.mark.parametrize('name', IMAGENET_MODELS)
def test_imagenet_model_contract(name):
    model = MODELS.build(dict(type=name)).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model(x)
    assert model.feat_dim == IMAGENET_FEAT_DIMS[name]
    assert feats.shape == (2, IMAGENET_FEAT_DIMS[name])
    assert logits.shape == (2, 1000)
    assert torch.equal(model.fc(feats), logits)


@pytest.mark.parametrize('name', ['resnet18', 'resnet50'])
def test_torchvision_state_dict_loads_strictly(name):
    reference = getattr(torchvision.models, name)().eval()
    model = MODELS.build(dict(type=f'tv_{name}')).eval()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-5)


def test_mobilenetv1_reference_layout():
    state = MODELS.build(dict(type='MobileNetV1')).state_dict()
    assert tuple(state['model.0.0.weight'].shape) == (32, 3, 3, 3)
    assert tuple(state['model.1.0.weight'].shape) == (32, 1, 3, 3)
    assert tuple(state['model.13.3.weight'].shape) == (1024, 1024, 1, 1)
    assert tuple(state['fc.weight'].shape) == (1000, 1024)
    assert not any(k.startswith('model.14') for k in state)


@pytest.mark.parametrize('name', CIFAR_MODELS)
def test_dual_head_on_every_cifar_model(name, cifar_batch):
    dual = DualHeadClassifier(dict(type=name, num_classes=100),
                              aux_head='nonlinear')
    out = dual(cifar_batch)
    assert out.main.shape == (2, 100) and out.aux.shape == (2, 100)
    dual.eval()
    with torch.no_grad():
        assert torch.equal(dual(cifar_batch).main, dual.network(cifar_batch))
