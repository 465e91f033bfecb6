"""Each pair's prompt run once for both of its answers.

TRL's DPOTrainer runs a pair as two rows, prompt + chosen and prompt + rejected, padded to the longer: the prompt
(with the chat template's system text, often most of a row) is computed twice and the shorter answer is padded.
Here a pair is one row:

    the prompt but its last token | last token, chosen answer | last token again, rejected answer

Each branch starts with a copy of the prompt's last token at the same position (position ids), sees the shared prompt
and itself but never the other branch (a 4D attention mask), so every hidden state is the one it has in its own row.
TRL's fused head scores each answer token from the position before it (pre-shifted labels); the scores are put back
where TRL expects them in its two-row layout, and TRL computes the loss, its metrics and the gradients as usual.

A batch this cannot hold exactly runs TRL's way: the two rows' prompts differ (as a truncation from the end can make
them), the attention takes no 4D mask (FlashAttention 2), or the model is one where a branch would see the other
all the same (`exact_for`).
"""
from __future__ import annotations

import functools

from ... import models
from .. import trainer as shared

# Attention implementations that take a 4D mask as it is given (transformers' masking_utils returns it as-is).
TAKES_4D_MASK = ("eager", "sdpa")
# The fused head's per-token outputs (those TRL did not ask for are None).
PER_TOKEN = ("log_probs", "entropy", "log_sum_sq_probs", "mean_logits", "is_top1")


def exact_for(model) -> bool:
    """Whether a shared-prompt row gives this model exactly its own rows' scores: an architecture whose branches see
    only themselves (models.takes_branched_rows) and no prompt-learning adapter (it extends a 2D mask)."""
    peft = getattr(model, "active_peft_config", None)
    if peft is not None and getattr(peft, "is_prompt_learning", False):
        return False
    return models.takes_branched_rows(model)


class Forward:
    """Stands in for the model in DPOTrainer's `model(**inputs, labels=labels, fused_lm_head=True)` calls."""

    def __init__(self, model, attention: str, dtype):
        self.model, self.attention, self.dtype = model, attention, dtype

    def __call__(self, input_ids=None, attention_mask=None, labels=None, fused_lm_head=False, **kwargs):
        kwargs.pop("use_cache", None)
        packed = pack(input_ids, attention_mask, labels) if fused_lm_head and not kwargs and \
            self.attention in TAKES_4D_MASK else None
        if packed is None:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels,
                              fused_lm_head=fused_lm_head, use_cache=False, **kwargs)
        mask = packed["mask"]
        if self.attention == "eager":  # eager attention adds the mask: 0 where seen, the dtype's minimum elsewhere
            import torch

            mask = torch.zeros(mask.shape, dtype=self.dtype, device=mask.device).masked_fill(
                ~mask, torch.finfo(self.dtype).min)
        out = self.model(input_ids=packed["input_ids"], attention_mask=mask, position_ids=packed["position_ids"],
                         shift_labels=packed["shift_labels"], fused_lm_head=True, use_cache=False)
        fields = {name: unpack(getattr(out, name), packed) for name in PER_TOKEN}
        return type(out)(loss=out.loss, aux_loss=out.aux_loss, **fields)


def pack(input_ids, attention_mask, labels) -> dict | None:
    """The shared-prompt rows of a DPO batch (chosen rows, then rejected rows), or None where it cannot be exact."""
    import torch

    if input_ids is None or labels is None or attention_mask is None or attention_mask.dim() != 2:
        return None
    pairs = input_ids.size(0) // 2
    rows = []
    for b in range(pairs):
        parts = [_split(input_ids[i], attention_mask[i], labels[i]) for i in (b, pairs + b)]
        if None in parts or not torch.equal(parts[0][0], parts[1][0]):
            return None
        rows.append((parts[0][0], parts[0][1], parts[1][1]))
    width = max(len(p) + len(c) + len(r) + 1 for p, c, r in rows)
    device = input_ids.device
    ids = torch.zeros(pairs, width, dtype=input_ids.dtype, device=device)
    positions = torch.zeros(pairs, width, dtype=torch.long, device=device)
    shift = torch.full((pairs, width), -100, dtype=labels.dtype, device=device)
    segment = torch.full((pairs, width), 3, dtype=torch.long, device=device)  # 0 prompt, 1 chosen, 2 rejected, 3 pad
    index = torch.zeros(2 * pairs, input_ids.size(1) - 1, dtype=torch.long, device=device)
    scored = torch.zeros(2 * pairs, input_ids.size(1) - 1, dtype=torch.bool, device=device)
    for b, (prompt, chosen, rejected) in enumerate(rows):
        p = len(prompt)
        start = p - 1  # both branches begin with the prompt's last token, at its position
        ids[b, :start] = prompt[:-1]
        positions[b, :start] = torch.arange(start, device=device)
        segment[b, :start] = 0
        for side, answer in ((1, chosen), (2, rejected)):
            branch = torch.cat([prompt[-1:], answer])
            at = start if side == 1 else start + 1 + len(chosen)
            span = slice(at, at + len(branch))
            ids[b, span] = branch
            positions[b, span] = torch.arange(start, start + len(branch), device=device)
            segment[b, span] = side
            shift[b, at:at + len(answer)] = answer  # each position predicts the branch's next token
            # TRL's layout: the token at row index k is scored in column k - 1; the answer starts at index p.
            row = b if side == 1 else pairs + b
            index[row, start:start + len(answer)] = b * width + torch.arange(at, at + len(answer), device=device)
            scored[row, start:start + len(answer)] = True
    n = torch.arange(width, device=device)
    causal = n[None, :, None] >= n[None, None, :]
    query, key = segment[:, :, None], segment[:, None, :]
    seen = causal & (key != 3) & ~((query == 2) & (key == 1))
    seen = seen | torch.eye(width, dtype=torch.bool, device=device)  # a pad position sees itself (no empty row)
    return {"input_ids": ids, "position_ids": positions, "shift_labels": shift, "mask": seen[:, None],
            "index": index, "scored": scored}


def _split(ids, mask, labels):
    """A row's prompt and answer tokens, or None unless it is prompt, then answer, then padding."""
    length = int(mask.sum())
    if length < 2 or not bool(mask[:length].all()):
        return None
    answer = (labels[:length] != -100).nonzero().flatten()
    p = int(answer[0]) if len(answer) else length
    if p < 1 or len(answer) != length - p:
        return None
    return ids[:p], ids[p:length]


def unpack(values, packed):
    """Per-token values of the shared-prompt rows, back in TRL's two-row layout (0 where nothing is scored)."""
    if values is None:
        return None
    return values.reshape(-1)[packed["index"]].masked_fill(~packed["scored"], 0)


@functools.lru_cache(maxsize=1)
def trainer_class():
    """TRL's DPOTrainer (as the studio's trainer) that runs each pair's prompt once, in its steps, validations and
    reference scoring, when built with shared_prompt=True."""
    base = shared.trainer_class("DPOTrainer")

    class SharedPrompt(base):
        def __init__(self, *args, shared_prompt: bool = True, **kwargs):
            self.studio_shared_prompt = shared_prompt
            super().__init__(*args, **kwargs)

        @functools.cached_property
        def studio_exact(self) -> bool:  # decided once, from the model
            return exact_for(self.accelerator.unwrap_model(self.model))

        def _forward(self, model):
            if not (self.studio_shared_prompt and self.studio_exact):
                return model
            unwrapped = self.accelerator.unwrap_model(self.model)
            return Forward(model, unwrapped.config._attn_implementation,
                           unwrapped.get_input_embeddings().weight.dtype)

        def _compute_loss(self, model, inputs, return_outputs):
            return super()._compute_loss(self._forward(model), inputs, return_outputs)

        def compute_ref_log_probs(self, model, inputs):
            return super().compute_ref_log_probs(self._forward(model), inputs)

    return SharedPrompt
