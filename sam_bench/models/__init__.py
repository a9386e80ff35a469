"""Models: T5.1.1/mT5 and BART encoder-decoders, BERT-family encoders, losses, decoding, checkpoint import.

Heavier pieces are imported from their modules: ``sam_bench.models.checkpoints``
(import/export, ``load_initial_params``) and ``sam_bench.models.tokenizers``; the memory
planner over models and optimizers is ``sam_bench.memory``.
"""

from sam_bench.models.bert import (
    NAMED_BERT_CONFIGS,
    BertConfig,
    BertEncoder,
    bert_apply,
    bert_config,
    bert_encode,
    count_bert_params,
    init_bert_params,
    mean_pool,
)
from sam_bench.models.decoding import greedy_decode
from sam_bench.models.losses import (
    classification_cross_entropy,
    per_example_cross_entropy,
    regression_mse,
    token_cross_entropy,
)
from sam_bench.models.registry import (
    MODEL_CONFIGS,
    PUBLISHED_PARAMS,
    abstract_model,
    count_model_params,
    init_model,
    model_config,
    model_family,
)
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
    "MODEL_CONFIGS",
    "NAMED_BERT_CONFIGS",
    "NAMED_CONFIGS",
    "PAD_ID",
    "PUBLISHED_PARAMS",
    "BertConfig",
    "BertEncoder",
    "T5",
    "T5Config",
    "abstract_model",
    "apply",
    "bert_apply",
    "bert_config",
    "bert_encode",
    "classification_cross_entropy",
    "count_bert_params",
    "count_model_params",
    "count_params",
    "greedy_decode",
    "init_bert_params",
    "init_model",
    "init_params",
    "mean_pool",
    "model_config",
    "model_family",
    "per_example_cross_entropy",
    "regression_mse",
    "relative_position_bucket",
    "rms_norm",
    "shift_right",
    "t5_config",
    "token_cross_entropy",
]
