"""The CIFAR DHKD training step measured by tools/benchmarks/train_step.py
and diagnostics_cost.py: the model of configs/_base_/dhkd_cifar100.py
(resnet32x4 -> resnet8x4, 100 classes, random init), a random batch, and
the same step as a plain PyTorch loop."""
import torch
import torch.nn.functional as F
from mmengine.registry import MODELS

from ..losses import binary_kl_norm

NUM_CLASSES = 100
TEMPERATURE = 2.0
#: the CIFAR recipe's SGD
SGD = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)


def build_cls_distiller() -> torch.nn.Module:
    """The DHKD model of configs/_base_/dhkd_cifar100.py in training mode,
    its random-init teacher counted as loaded (nothing to load)."""
    distiller = MODELS.build(dict(
        type='ClsDistiller',
        student=dict(type='DualHeadClassifier',
                     network=dict(type='resnet8x4', num_classes=NUM_CLASSES),
                     aux_head='nonlinear'),
        teacher=dict(type='resnet32x4', num_classes=NUM_CLASSES),
        task_losses=dict(main=dict(type='CELoss')),
        distill_losses=dict(aux=dict(type='BinaryKLNormLoss',
                                     temperature=TEMPERATURE)),
        data_preprocessor=dict(type='ClsDataPreprocessor', pad_crop=4,
                               flip=True)))
    distiller.teacher_loaded = True
    return distiller.train()


def random_batch(batch: int) -> dict:
    """A training batch as the CIFAR loader gives it: uint8 images and
    labels."""
    return dict(inputs=torch.randint(0, 256, (batch, 3, 32, 32),
                                     dtype=torch.uint8),
                data_samples=torch.randint(0, NUM_CLASSES, (batch, )))


def sgd(model: torch.nn.Module) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), **SGD)


def plain_loop_step(distiller, optimizer):
    """``step(data)``: the DHKD step on the modules of ``distiller`` without
    MMEngine: the same preprocessing, the teacher under no_grad, CE on the
    main head + BinaryKLNorm on the aux head, backward, SGD step."""
    preprocess = distiller.data_preprocessor
    student, teacher = distiller.student, distiller.teacher

    def step(data):
        batch = preprocess(data, True)
        x, y = batch['inputs'], batch['data_samples']
        with torch.no_grad():
            t_logits = teacher(x)
        main, aux = student(x)
        loss = F.cross_entropy(main, y) + binary_kl_norm(aux, t_logits,
                                                         TEMPERATURE)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step
