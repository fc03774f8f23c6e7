"""DNABERT-2's classifier on the padded batch: its own layers, without unpadding, for bf16 queries on CUDA.

MosaicBERT's `BertEncoder` unpads the batch before its layers and every attention layer unpads again
(`bert_padding.unpad_input`: `torch.nonzero` on the mask and `seqlens.max().item()`, ~13 host-device
synchronisations a forward pass). Each one makes the host wait for the GPU, so an attack cannot queue its
next batch while the GPU computes: on an H200 the attack ran at 0.17 of the model's best forward
(benchmarks/RESULTS.md run 5). This forward computes the same function on the padded batch: the same
modules (`Wqkv`, the attention output, the gated MLP, pooler, classifier) with the same ALiBi and
mask bias, attention through `scaled_dot_product_attention` with that bias; no synchronisation, no
data-dependent shape, so `torch.compile` traces it whole. Pad rows are computed and never read: the
mask bias keeps them out of every real token's attention (as the own code's -10000 does) and the pooler
reads [CLS], the first token (DNABERT-2 pads on the right).

Used only where the victim queries in bf16 on CUDA (`families.query_module`); float32 confirmations,
gradients, training and every CPU run go through the model's own code, so decisions and CPU records are
its own. tests/test_remote_families.py checks this forward against the own code on padded batches.
"""

from __future__ import annotations

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

MASKED = -10000.0  # the own code's additive bias for a padded key (bert_layers.BertEncoder.forward)


class PaddedDnabert2(torch.nn.Module):
    """`model`'s (a bert_layers.BertForSequenceClassification) logits without unpadding."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.config = model.config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> SequenceClassifierOutput:
        return SequenceClassifierOutput(logits=self.logits_and_states(input_ids, attention_mask)[0])

    def logits_and_states(self, input_ids: torch.Tensor,
                          attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits, and the encoder's last hidden states [n, T, d] they are pooled from (TextFooler's
        similarity filter reads them: forward.logits_and_last_hidden_states)."""
        bert = self.model.bert
        n, length = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        # token type 0 everywhere, given explicitly: the own code's default takes a CPU-only type check
        states = bert.embeddings(input_ids, torch.zeros_like(input_ids))
        bias = self._bias(bert.encoder, attention_mask, length)
        width = states.shape[-1]
        states = states.reshape(n * length, width)  # the own layers' MLP slices a [tokens, width] matrix
        for layer in bert.encoder.layer:
            attention = layer.attention
            q, k, v = self._heads(attention.self, states, n, length)
            bias = bias.to(q.dtype)  # cast once, at the first layer (bf16 under autocast); a no-op after
            context = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            states = layer.mlp(attention.output(context.transpose(1, 2).reshape(n * length, width), states))
        states = states.reshape(n, length, width)
        return self.model.classifier(self.model.dropout(bert.pooler(states))), states

    @staticmethod
    def _bias(encoder: torch.nn.Module, attention_mask: torch.Tensor, length: int) -> torch.Tensor:
        """ALiBi plus the padded keys' bias, [n, heads, length, length], as the own encoder builds it
        (its ALiBi table grows, once, for inputs longer than it was built for)."""
        if encoder._current_alibi_size < length:
            encoder.rebuild_alibi_tensor(size=length, device=attention_mask.device)
        elif encoder.alibi.device != attention_mask.device:
            encoder.alibi = encoder.alibi.to(attention_mask.device)
        keys = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * MASKED
        return encoder.alibi[:, :, :length, :length] + keys

    @staticmethod
    def _heads(self_attention: torch.nn.Module, states: torch.Tensor, n: int, length: int):
        """q, k, v [n, heads, length, d] of the own layer's packed projection: attention is then
        softmax(q k^T / sqrt(d) + bias) v, as its PyTorch path computes it."""
        qkv = self_attention.Wqkv(states).reshape(n, length, 3, self_attention.num_attention_heads, -1)
        return (qkv[:, :, i].transpose(1, 2) for i in range(3))
