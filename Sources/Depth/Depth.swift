// Monocular depth (ARCHITECTURE.md §11): Depth Anything loaded from a Hugging Face folder, as
// transformers runs it, for the depth-weighted damage severity of `rubble segment --depth-model`.
//
//   Model/            DINOv2 backbone (embeddings, layers, LayerScale), DPT neck (reassemble,
//                     fusion) and head; composite layers named by their PyTorch module paths
//   HuggingFace/      DepthAnythingFolder: config.json + model.safetensors into a DepthAnything
//   Preprocessing/    DepthPreprocessor: DPTImageProcessor (aspect ratio kept, multiples of 14)
//   Inference/        DepthEstimator: photos to DepthPredictions, batched by preprocessed size
