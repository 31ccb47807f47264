#!/usr/bin/env python3
"""llama.cpp's convert_hf_to_gguf.py (from the llama-cpp-python 0.3.36 sdist): the oracle for `ckpt convert`.
Runs the converter's own main() with three patches that only touch what our tiny fixtures trip over:
1. TextModel.get_vocab_base_pre: an unknown BPE pre-tokenizer hash (the fixtures' small byte-level BPE) gives
   "gpt-2" instead of raising NotImplementedError; known hashes are unchanged.
2. ModelBase.load_hparams: transformers 5 no longer puts the legacy "n_ctx" in GPT2Config.to_dict(), and
   GPT2Model reads it (KeyError); it is set to n_positions, the value the key held.
3. GPT2Model.set_gguf_parameters writes feed_forward_length = 4*n_embd, ignoring n_inner (the fixture has
   n_inner 64, n_embd 32) and llama.cpp then rejects the file (check_tensor_dims on ffn_down); same calls in
   the same order, with n_inner when it is set.
The converter directory is $LLAMA_CPP_CONVERT_DIR, else the first of converter_dir()'s candidates; with none,
the sdist is fetched with pip into $CKPT_CACHE/sdist.
Usage: convert_hf_ref.py HF_DIR --outfile OUT.gguf --outtype f32|f16|bf16|q8_0|auto   (the converter's flags)"""
import os
import subprocess
import sys
import tarfile

VERSION = "0.3.36"


def converter_dir():
    cache = os.environ.get("CKPT_CACHE", os.path.expanduser("~/.cache/ckpt"))
    sub = f"llama_cpp_python-{VERSION}/vendor/llama.cpp"
    candidates = [os.environ.get("LLAMA_CPP_CONVERT_DIR"), os.path.join(cache, "sdist", sub), f"/tmp/sdist/{sub}"]
    for d in candidates:
        if d and os.path.isfile(os.path.join(d, "convert_hf_to_gguf.py")):
            return d
    dest = os.path.join(cache, "sdist")
    os.makedirs(dest, exist_ok=True)
    tgz = os.path.join(dest, f"llama_cpp_python-{VERSION}.tar.gz")
    if not os.path.isfile(tgz):
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
                               f"llama-cpp-python=={VERSION}", "-d", dest], stdout=sys.stderr)
    with tarfile.open(tgz) as tar:
        try:
            tar.extractall(dest, filter="data")
        except TypeError:  # Python without extraction filters
            tar.extractall(dest)
    return os.path.join(dest, sub)


def main():
    root = converter_dir()
    sys.path.insert(0, root)
    sys.argv[0] = os.path.join(root, "convert_hf_to_gguf.py")
    import convert_hf_to_gguf as conv  # puts the vendored gguf-py first on sys.path
    from conversion import base, gpt2

    original_pre = base.TextModel.get_vocab_base_pre

    def vocab_base_pre(self, tokenizer):
        try:
            return original_pre(self, tokenizer)
        except NotImplementedError:
            return "gpt-2"

    original_load = base.ModelBase.load_hparams

    def load_hparams(dir_model, is_mistral_format):
        hparams = original_load(dir_model, is_mistral_format)
        if hparams.get("model_type") == "gpt2" and "n_ctx" not in hparams:
            hparams["n_ctx"] = hparams["n_positions"]
        return hparams

    def gpt2_parameters(self):
        w, h = self.gguf_writer, self.hparams
        w.add_block_count(self.block_count)
        w.add_context_length(h["n_ctx"])
        w.add_embedding_length(h["n_embd"])
        w.add_feed_forward_length(h.get("n_inner") or 4 * h["n_embd"])
        w.add_head_count(h["n_head"])
        w.add_layer_norm_eps(h["layer_norm_epsilon"])
        w.add_file_type(self.ftype)

    base.TextModel.get_vocab_base_pre = vocab_base_pre
    base.ModelBase.load_hparams = staticmethod(load_hparams)
    gpt2.GPT2Model.set_gguf_parameters = gpt2_parameters
    conv.main()


if __name__ == "__main__":
    main()
