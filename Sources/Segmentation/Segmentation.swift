// Damage severity by semantic segmentation (ARCHITECTURE.md): SegFormer loaded from a Hugging Face
// folder, per-pixel training, IoU metrics and the severity score.
