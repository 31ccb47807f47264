// Distill: training (soft prompts, KD losses, PromptKD, SFT). Built by the Training and Distill issues;
// this target only fixes its place in the dependency graph for now (Formats <- Model <- Distill <- tools).
import Formats
import Model
