"""T5.1.1 model, losses and decoding."""

from sam_bench.models.decoding import greedy_decode
from sam_bench.models.losses import per_example_cross_entropy, token_cross_entropy
from sam_bench.models.t5 import (
    EOS_ID,
    NAMED_CONFIGS,
    PAD_ID,
    T5,
    T5Config,
    apply,
    count_params,
    init_params,
    relative_position_bucket,
    rms_norm,
    shift_right,
    t5_config,
)

__all__ = [
    "EOS_ID",
    "NAMED_CONFIGS",
    "PAD_ID",
    "T5",
    "T5Config",
    "apply",
    "count_params",
    "greedy_decode",
    "init_params",
    "per_example_cross_entropy",
    "relative_position_bucket",
    "rms_norm",
    "shift_right",
    "t5_config",
    "token_cross_entropy",
]
