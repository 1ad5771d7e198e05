"""Settings shared by several families, as JSON-schema properties with defaults.

A family's FAMILY.settings picks the fragments it uses and adds its own keys; the validator
rejects any key its family does not list.
"""
from __future__ import annotations

OPTIMIZER = {
    "optimizer": {"enum": ["sgd", "momentum", "rmsprop", "adam", "adadelta"], "default": "sgd"},
    "lr": {"type": "number", "exclusiveMinimum": 0, "default": 0.05},
    "momentum": {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0.9},
    "weight_decay": {"type": "number", "minimum": 0, "default": 0.0},
}

# Epoch loops over Fashion-MNIST (the engine's settings).
TRAINING = {
    "batch_size": {"description": "Examples per update, or \"full\" for full-batch gradient descent.",
                   "default": 64,
                   "oneOf": [{"type": "integer", "minimum": 1}, {"const": "full"}]},
    "epochs": {"type": "integer", "minimum": 1, "default": 5},
    "train_size": {"description": "Training examples drawn from the split (null = all that "
                                  "remain after validation).",
                   "type": ["integer", "null"], "minimum": 1, "default": None},
}

# The mlp and cnn classifiers (one grid may switch between them, so they share every key).
CLASSIFIER = {
    **OPTIMIZER, **TRAINING,
    "hidden": {"description": "MLP hidden widths ([] = softmax regression); the CNN ignores it.",
               "type": "array", "default": [256, 256], "items": {"type": "integer", "minimum": 1}},
    "channels": {"description": "CNN channels of its two conv layers; the MLP ignores it.",
                 "type": "array", "items": {"type": "integer", "minimum": 1},
                 "default": [16, 32], "minItems": 2, "maxItems": 2},
    "activation": {"enum": ["identity", "sigmoid", "tanh", "relu", "leaky_relu"], "default": "relu"},
    "init": {"enum": ["default", "xavier", "he"], "default": "default"},
    "dropout": {"type": "number", "minimum": 0, "exclusiveMaximum": 1, "default": 0.0},
    "batchnorm": {"type": "boolean", "default": False},
    "early_stopping": {"type": "boolean", "default": False},
    "patience": {"type": "integer", "minimum": 1, "default": 5},
    "probes": {"description": "Extra per-epoch measures.", "type": "array",
               "items": {"enum": ["grad_norms", "activation_stats", "grad_noise"]}, "default": []},
}

# The image generative families (autoencoder, vae, gan): note 002 trains them with Adam.
GENERATIVE = {
    **TRAINING,
    "optimizer": {"description": "Note 002's optimizer; the only one these families use.",
                  "enum": ["adam"], "default": "adam"},
    "lr": OPTIMIZER["lr"],
    "weight_decay": OPTIMIZER["weight_decay"],
    "latent": {"description": "Latent size (ae, vae) or noise size (gan).", "type": "integer",
               "minimum": 1, "default": 4},
    "logs_per_epoch": {"description": "Training-curve points per epoch.", "type": "integer",
                       "minimum": 1, "default": 1},
}
