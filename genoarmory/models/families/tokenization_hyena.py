"""HyenaDNA's character tokenizer, written for GenoArmory from its published behaviour (it loads with
`trust_remote_code`, as `tokenization_hyena.py` of the hub's HyenaDNA repositories does).

The folders GenoArmory builds for random-weight HyenaDNA (models/families/checkpoints.py) ship this
file as their tokenizer code, because the hub's own file is not part of the fixtures. What it
reproduces, as HyenaDNA's published tokenizer builds it for characters A, C, G, T, N:
- vocabulary [CLS]=0, [SEP]=1, [BOS]=2, [MASK]=3, [PAD]=4, [RESERVED]=5, [UNK]=6, then one id per
  character from 7 (A=7 ... N=11); anything else is [UNK];
- one token per character, and a single [SEP] appended (no [CLS]);
- padding on the LEFT unless the folder's tokenizer_config.json says otherwise;
- `model_input_names = ["input_ids"]`: it returns no attention mask unless asked.
Self-contained (imports transformers only): it is copied into model folders as remote code.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from transformers import PreTrainedTokenizer

SPECIAL_IDS = {"[CLS]": 0, "[SEP]": 1, "[BOS]": 2, "[MASK]": 3, "[PAD]": 4, "[RESERVED]": 5, "[UNK]": 6}


class HyenaDNATokenizer(PreTrainedTokenizer):
    model_input_names = ["input_ids"]

    def __init__(self, characters: Sequence[str] = ("A", "C", "G", "T", "N"), model_max_length: int = 32770,
                 padding_side: str = "left", **kwargs):
        self.characters = list(characters)
        self._to_id: Dict[str, int] = {**SPECIAL_IDS, **{c: i + len(SPECIAL_IDS) for i, c in enumerate(self.characters)}}
        self._to_token = {i: t for t, i in self._to_id.items()}
        for name, token in (("bos_token", "[BOS]"), ("eos_token", "[SEP]"), ("sep_token", "[SEP]"),
                            ("cls_token", "[CLS]"), ("pad_token", "[PAD]"), ("mask_token", "[MASK]"),
                            ("unk_token", "[UNK]")):
            kwargs.setdefault(name, token)
        super().__init__(characters=self.characters, model_max_length=model_max_length, padding_side=padding_side,
                         **kwargs)

    @property
    def vocab_size(self) -> int:
        return len(self._to_id)

    def get_vocab(self) -> Dict[str, int]:
        return dict(self._to_id)

    def _tokenize(self, text: str, **kwargs) -> List[str]:
        return list(text)

    def _convert_token_to_id(self, token: str) -> int:
        return self._to_id.get(token, SPECIAL_IDS["[UNK]"])

    def _convert_id_to_token(self, index: int) -> str:
        return self._to_token.get(index, "[UNK]")

    def convert_tokens_to_string(self, tokens: List[str]) -> str:
        return "".join(tokens)

    def build_inputs_with_special_tokens(self, token_ids_0: List[int],
                                         token_ids_1: Optional[List[int]] = None) -> List[int]:
        out = token_ids_0 + [self.sep_token_id]
        return out if token_ids_1 is None else out + token_ids_1 + [self.sep_token_id]

    def get_special_tokens_mask(self, token_ids_0: List[int], token_ids_1: Optional[List[int]] = None,
                                already_has_special_tokens: bool = False) -> List[int]:
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        out = [0] * len(token_ids_0) + [1]
        return out if token_ids_1 is None else out + [0] * len(token_ids_1) + [1]

    def save_vocabulary(self, save_directory: str, filename_prefix: Optional[str] = None) -> Tuple[str, ...]:
        return ()  # the vocabulary is fixed by `characters`, saved in tokenizer_config.json
