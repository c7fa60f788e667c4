"""The quick profile's training settings (params.yaml ``profiles.quick``), for tests that build a RunConfig."""

QUICK_TRAINING = dict(
    epochs=10,
    batch_size=64,
    optimizer={"name": "adam", "lr": 0.001, "weight_decay": 0.0},
    schedule={"name": "constant"},
)
