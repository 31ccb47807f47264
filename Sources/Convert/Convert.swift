// Convert: whole-checkpoint operations (HF directory <-> GGUF, dtype casts, quantization plans,
// streaming writers). Built by the Convert and Quantization issues; this target only fixes its place in
// the dependency graph for now (Formats <- Model <- Convert <- tools).
import Formats
import Model
