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
    "kernel": {"description": "CNN kernel size of both conv layers (odd: \"same\" padding); the "
                              "MLP ignores it.", "enum": [3, 5, 7], "default": 3},
    "dense": {"description": "CNN fully-connected hidden widths after the conv blocks ([] = the "
                             "linear output layer only); the MLP ignores it.",
              "type": "array", "default": [], "items": {"type": "integer", "minimum": 1}},
    "activation": {"enum": ["identity", "sigmoid", "tanh", "relu", "leaky_relu"], "default": "relu"},
    "init": {"description": "default: PyTorch's; xavier (uniform) or he (normal), zero biases; "
                            "truncated-normal: DeepOBS's (weights N(0, 0.05^2) cut at 2 sd, "
                            "biases 0.05).",
             "enum": ["default", "xavier", "he", "truncated-normal"], "default": "default"},
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

# The density models (bernoulli, fvsbn, nade, pixelcnn, vae-density): one grid switches between
# them, so they share every key; a model ignores the keys of the others.
DENSITY = {
    **TRAINING,
    "batch_size": {"description": "Images per update.", "type": "integer", "minimum": 1,
                   "default": 100},
    "lr": {"description": "Adam learning rate.", "type": "number", "exclusiveMinimum": 0,
           "default": 0.001},
    "dataset": {"description": "Binarised data set the model is fitted to; the other one's test "
                               "set is its out-of-distribution set.",
                "enum": ["mnist", "fashion-mnist"], "default": "mnist"},
    "order": {"description": "Pixel order of the autoregressive factorisation (fvsbn, nade): the "
                             "raster scan or one random permutation, fixed for every run.",
              "enum": ["raster", "random"], "default": "raster"},
    "hidden": {"description": "NADE's hidden units; the VAE's width (two hidden layers).",
               "type": "integer", "minimum": 1, "default": 100},
    "channels": {"description": "PixelCNN: feature maps of every masked convolution.",
                 "type": "integer", "minimum": 1, "default": 16},
    "layers": {"description": "PixelCNN: masked 3x3 convolutions (type B) after the 7x7 type A.",
               "type": "integer", "minimum": 0, "default": 3},
    "latent": {"description": "VAE: latent size.", "type": "integer", "minimum": 1, "default": 32},
    "iw_samples": {"description": "VAE: the numbers k of importance samples of the log p(x) "
                                  "estimates (k = 1 is the ELBO).",
                   "type": "array", "items": {"type": "integer", "minimum": 1},
                   "default": [1, 10, 100, 1000], "minItems": 1},
    "iw_images": {"description": "VAE: test images the importance-weighted estimates use.",
                  "type": "integer", "minimum": 1, "default": 500},
    "test_images": {"description": "Test images scored at the end, of each data set (null = all "
                                   "10,000).", "type": ["integer", "null"], "minimum": 1,
                    "default": None},
    "val_images": {"description": "Validation images scored after every epoch.",
                   "type": "integer", "minimum": 1, "default": 2000},
    "samples": {"description": "Images sampled pixel by pixel for the report.", "type": "integer",
                "minimum": 1, "default": 10},
}
